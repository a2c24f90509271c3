import pytest
from django.test import RequestFactory
from knox.models import AuthToken

from tests.support.api import assert_error

pytestmark = pytest.mark.django_db


def test_token_for_good_credentials_then_me(region, api_client):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "op-a", "password": "pw-for-tests"}, format="json"
    )
    assert response.status_code == 200
    key = response.json()["token"]
    assert AuthToken.objects.filter(user=region.operator_a).count() == 1

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = api_client.get("/api/v1/me/").json()
    assert me["username"] == "op-a"
    assert [(m["desk"]["code"], m["role"]) for m in me["memberships"]] == [("AAA-DESK", "operator")]
    assert me["memberships"][0]["desk"]["state"] == "AAA"
    assert me["can_write"] is True and me["sees_all_states"] is False


def test_each_log_in_gets_its_own_token(region, api_client):
    body = {"username": "op-a", "password": "pw-for-tests"}
    first = api_client.post("/api/v1/auth/token/", body, format="json").json()["token"]
    second = api_client.post("/api/v1/auth/token/", body, format="json").json()["token"]
    assert first != second


def test_wrong_password_is_401_with_reason(region, api_client):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "op-a", "password": "nope"}, format="json"
    )
    assert_error(response, 401, "invalid_credentials")
    assert response["WWW-Authenticate"]
    assert not AuthToken.objects.exists()


def test_missing_field_is_400_naming_it(region, api_client):
    body = assert_error(
        api_client.post("/api/v1/auth/token/", {"username": "op-a"}, format="json"), 400, "invalid"
    )
    assert "password" in body["details"]["fields"]


def test_malformed_json_is_400(region, api_client):
    response = api_client.post(
        "/api/v1/auth/token/", data='{"username": "op-a", ', content_type="application/json"
    )
    assert_error(response, 400, "malformed_request")


def test_bad_token_is_401(region, api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(api_client.get("/api/v1/me/"), 401, "authentication_failed")


def test_anonymous_is_401(api_client, db):
    assert_error(api_client.get("/api/v1/states/"), 401, "not_authenticated")


def test_session_auth_works_for_the_console(region, client):
    # A request, as every log-in has one: django-axes counts failures per address.
    assert client.login(
        request=RequestFactory().post("/login/"), username="coord", password="pw-for-tests"
    )
    me = client.get("/api/v1/me/").json()
    assert me["sees_all_states"] is True
    assert me["memberships"][0]["role"] == "coordinator"


def test_session_auth_needs_csrf_on_writes(region):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.login(request=RequestFactory().post("/login/"), username="op-a", password="pw-for-tests")
    # The token endpoint takes no session; any other write without CSRF token is refused.
    response = client.post("/api/v1/me/", {}, format="json")
    assert response.status_code == 403


def test_states_list_and_detail(region, api_client):
    api_client.force_authenticate(region.operator_a)
    codes = [s["code"] for s in api_client.get("/api/v1/states/").json()["results"]]
    assert codes == ["AAA", "BBB", "CCC"]
    assert api_client.get("/api/v1/states/bbb/").json() == {"code": "BBB", "name": "State B"}


def test_unknown_state_code_is_404_json(region, api_client):
    api_client.force_authenticate(region.operator_a)
    assert_error(api_client.get("/api/v1/states/ZZZ/"), 404, "not_found")
    assert_error(api_client.get("/api/v1/states/12345/"), 404, "not_found")


def test_desks_filtered_by_state(region, api_client):
    api_client.force_authenticate(region.operator_b)
    desks = api_client.get("/api/v1/desks/?state=aaa").json()["results"]
    assert [(d["code"], d["time_zone"]) for d in desks] == [("AAA-DESK", "Asia/Bangkok")]


def test_desks_unknown_state_filter_is_400(region, api_client):
    api_client.force_authenticate(region.operator_b)
    body = assert_error(api_client.get("/api/v1/desks/?state=ZZZ"), 400, "unknown_state")
    assert "ZZZ" in body["message"]


def test_desk_list_query_count_is_constant(region, api_client, django_assert_max_num_queries):
    api_client.force_authenticate(region.operator_b)
    with django_assert_max_num_queries(4):
        assert len(api_client.get("/api/v1/desks/").json()["results"]) == 4


def test_read_only_endpoints_refuse_writes(region, api_client):
    api_client.force_authenticate(region.coordinator)
    assert_error(
        api_client.post("/api/v1/states/", {"code": "XXX"}, format="json"),
        405,
        "method_not_allowed",
    )


def test_unknown_api_path_is_json_404(region, api_client):
    api_client.force_authenticate(region.operator_a)
    assert_error(api_client.get("/api/v1/nothing-here/"), 404, "not_found")
