"""Who may see and do what, through the API: own state manages, parties see, third state
gets 404, the centre sees all, auditors read and get 403 on every write."""

from datetime import timedelta

import pytest
from django.utils import timezone

from humanitarian.models import AssistanceRequest, Pledge, PledgeStatus
from tests.humanitarian.conftest import API, make_pledge, make_request

pytestmark = pytest.mark.django_db


def as_user(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_create_request_and_pledge_over_the_api(region, crisis, api_client):
    as_user(api_client, region.operator_a)
    body = {
        "crisis": crisis.pk, "sector": "wash", "item": "drinking_water", "quantity": 20000,
        "needed_by": (timezone.now() + timedelta(days=2)).isoformat(), "priority": "critical",
        "admin1_code": "AA-01", "admin1_name": "Coast", "submit": True,
    }  # fmt: skip
    response = api_client.post(f"{API}/requests/", body, format="json")
    assert response.status_code == 201, response.content
    req = response.json()
    assert (req["status"], req["unit"], req["state"]) == ("open", "litre", "AAA")

    as_user(api_client, region.operator_b)
    response = api_client.post(
        f"{API}/pledges/", {"request": req["id"], "quantity": 5000}, format="json"
    )
    assert response.status_code == 201, response.content
    pledge = response.json()
    assert (pledge["pledging_desk"], pledge["recipient_state"]) == ("BBB-DESK", "AAA")

    as_user(api_client, region.operator_a)
    response = api_client.post(f"{API}/pledges/{pledge['id']}/accept/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert api_client.get(f"{API}/requests/{req['id']}/").json()["status"] == "partially_pledged"


def test_visibility_by_state_and_role(region, crisis, api_client):
    draft = make_request(region, crisis, submit=False)
    live = make_request(region, crisis)
    pledge = make_pledge(region, live)
    everything = {draft.pk, live.pk}

    assert ids(as_user(api_client, region.operator_a).get(f"{API}/requests/")) == everything
    # State B is party: sees the published need (not A's draft) and the pledges.
    assert ids(as_user(api_client, region.operator_b).get(f"{API}/requests/")) == {live.pk}
    assert ids(api_client.get(f"{API}/pledges/")) == {pledge.pk}
    # State C is not party: sees nothing, and a direct look is 404.
    as_user(api_client, region.operator_c)
    assert ids(api_client.get(f"{API}/requests/")) == set()
    assert ids(api_client.get(f"{API}/pledges/")) == set()
    assert api_client.get(f"{API}/requests/{live.pk}/").status_code == 404
    assert api_client.get(f"{API}/pledges/{pledge.pk}/").status_code == 404
    assert api_client.get(f"{API}/gaps/?crisis={crisis.pk}").status_code == 404
    # The centre and the auditor see everything, drafts included.
    assert ids(as_user(api_client, region.coordinator).get(f"{API}/requests/")) == everything
    assert ids(as_user(api_client, region.auditor).get(f"{API}/requests/")) == everything


def test_third_state_gets_404_on_writes(region, crisis, api_client):
    live = make_request(region, crisis)
    pledge = make_pledge(region, live)
    as_user(api_client, region.operator_c)
    for url, body in [
        (f"{API}/pledges/", {"request": live.pk, "quantity": 3}),
        (f"{API}/requests/{live.pk}/close/", {}),
        (f"{API}/pledges/{pledge.pk}/accept/", {}),
        (f"{API}/pledges/{pledge.pk}/withdraw/", {}),
    ]:
        response = api_client.post(url, body, format="json")
        assert response.status_code == 404, (url, response.content)
        assert response.json()["code"] == "not_found"
    assert Pledge.objects.count() == 1


def test_auditor_reads_but_every_write_is_403(region, crisis, api_client):
    live = make_request(region, crisis)
    pledge = make_pledge(region, live)
    as_user(api_client, region.auditor)
    assert api_client.get(f"{API}/requests/{live.pk}/").status_code == 200
    needed_by = (timezone.now() + timedelta(days=1)).isoformat()
    writes = [
        (f"{API}/requests/", {"crisis": crisis.pk, "sector": "food", "item": "rice",
                              "quantity": 1, "needed_by": needed_by}),
        (f"{API}/requests/{live.pk}/close/", {}),
        (f"{API}/requests/{live.pk}/cancel/", {}),
        (f"{API}/pledges/", {"request": live.pk, "quantity": 1}),
        (f"{API}/pledges/{pledge.pk}/accept/", {}),
        (f"{API}/pledges/{pledge.pk}/decline/", {}),
        (f"{API}/pledges/{pledge.pk}/withdraw/", {}),
        (f"{API}/shelters/", {"crisis": crisis.pk, "name": "School", "capacity": 100}),
        (f"{API}/displacement/imports/", {"crisis": crisis.pk, "content": "a,b\n"}),
    ]  # fmt: skip
    for url, body in writes:
        response = api_client.post(url, body, format="json")
        assert response.status_code == 403, (url, response.content)
    assert AssistanceRequest.objects.count() == 1
    assert Pledge.objects.get().status == PledgeStatus.OFFERED


def test_party_state_may_not_manage_others_records(region, crisis, api_client):
    live = make_request(region, crisis)
    pledge = make_pledge(region, live)
    # B sees A's request but may not close it, nor accept pledges to it.
    as_user(api_client, region.operator_b)
    response = api_client.post(f"{API}/requests/{live.pk}/close/", {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "not_owner"
    assert api_client.post(f"{API}/pledges/{pledge.pk}/accept/", {}).status_code == 403
    # A may not withdraw or dispatch B's pledge.
    as_user(api_client, region.operator_a)
    assert api_client.post(f"{API}/pledges/{pledge.pk}/withdraw/", {}).status_code == 403
    # The coordinator sees everything but manages only the centre's own pledges.
    as_user(api_client, region.coordinator)
    assert api_client.post(f"{API}/requests/{live.pk}/close/", {}).status_code == 403


def test_over_commit_is_409_with_reason(region, crisis, api_client):
    live = make_request(region, crisis, quantity=10)
    pledge = make_pledge(region, live, quantity=12)
    as_user(api_client, region.operator_a)
    response = api_client.post(f"{API}/pledges/{pledge.pk}/accept/", {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "over_commit" and body["details"]["remaining"] == 10
    assert "surplus" in body["message"]
    response = api_client.post(
        f"{API}/pledges/{pledge.pk}/accept/", {"accept_surplus": True}, format="json"
    )
    assert response.status_code == 200


def test_bad_input_is_400_naming_the_field(region, crisis, api_client):
    as_user(api_client, region.operator_a)
    response = api_client.post(
        f"{API}/requests/",
        {"crisis": crisis.pk, "sector": "food", "item": "rice", "quantity": 0},
        format="json",
    )
    assert response.status_code == 400
    assert {"quantity", "needed_by"} <= set(response.json()["details"]["fields"])
    response = api_client.post(
        f"{API}/requests/",
        {"crisis": crisis.pk, "sector": "food", "item": "family_tent", "quantity": 3,
         "needed_by": timezone.now().isoformat()},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400 and response.json()["code"] == "item_not_in_sector"
    assert not AssistanceRequest.objects.exists()


def test_full_delivery_flow_over_the_api(region, crisis, api_client):
    live = make_request(region, crisis, quantity=10)
    pledge = make_pledge(region, live, quantity=10)
    as_user(api_client, region.operator_a)
    assert api_client.post(f"{API}/pledges/{pledge.pk}/accept/", {}).status_code == 200
    as_user(api_client, region.operator_b)
    response = api_client.post(f"{API}/pledges/{pledge.pk}/dispatch/", {}, format="json")
    assert response.json()["status"] == "dispatched"
    assert ids(api_client.get(f"{API}/deliveries/")) == {pledge.pk}
    as_user(api_client, region.operator_a)
    response = api_client.post(
        f"{API}/pledges/{pledge.pk}/deliver/", {"quantity_received": 9}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["quantity_received"]) == ("delivered", 9)
