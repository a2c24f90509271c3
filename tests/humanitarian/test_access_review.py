"""The console's aid and crisis pages under review: a third state's desk gets 404 on what it
may not see, the auditor never writes, and nonsense in a form is a message, not a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from crisis.models import CrisisTask, TimelineEntry
from humanitarian.models import AssistanceRequest, DisplacementReport, Pledge
from tests.crisis.crisis_helpers import activate, make_protocol, report
from tests.humanitarian.conftest import HXL_FILE, make_asset, make_pledge, make_request, upload

pytestmark = pytest.mark.django_db

HUGE = ["99999999999999999999", "2147483648", "-5", "NaN", "1e9", "", "\x00", "x" * 5000]


@pytest.fixture
def world(region):
    make_protocol()
    crisis = activate(region, report(region))
    req = make_request(region, crisis, sector="sar", item="usar_team", quantity=3)
    pledge = make_pledge(region, req, quantity=1)
    make_asset(region.state_b, region.desk_b, "B USAR", capacity=5, readiness_hours=6)
    task = CrisisTask.objects.filter(crisis=crisis).first()
    return {"crisis": crisis, "request": req, "pledge": pledge, "task": task}


def _urls(world) -> list[tuple[str, str, dict]]:
    c, r, p, t = world["crisis"].pk, world["request"].pk, world["pledge"].pk, world["task"].pk
    return [
        ("get", f"/crises/{c}/", {}),
        ("get", f"/aid/{c}/", {}),
        ("post", f"/crises/{c}/acknowledge/", {}),
        ("post", f"/crises/{c}/transition/", {"to_status": "de_escalating"}),
        ("post", f"/tasks/{t}/done/", {"done": "1"}),
        ("post", f"/aid/{c}/requests/", {"sector": "sar", "item": "usar_team", "quantity": "1",
                                         "needed_by": "2030-01-01T00:00", "priority": "normal"}),
        ("post", f"/aid/requests/{r}/pledge/", {"quantity": "1"}),
        ("post", f"/aid/pledges/{p}/accept/", {}),
        ("post", f"/aid/pledges/{p}/decline/", {}),
    ]  # fmt: skip


def _counts():
    return (
        TimelineEntry.objects.count(),
        AssistanceRequest.objects.count(),
        Pledge.objects.count(),
    )


def test_third_state_gets_404_and_the_auditor_writes_nothing(region, world):
    before = _counts()
    for user, allowed in [(region.operator_c, {404}), (region.auditor, {200, 302, 403, 404})]:
        client = Client()
        client.force_login(user)
        for method, url, body in _urls(world):
            response = getattr(client, method)(url, body)
            if user is region.auditor and method == "get":
                assert response.status_code == 200, url
                continue
            assert response.status_code in allowed, (user.username, url, response.status_code)
    assert _counts() == before


def test_nonsense_numbers_in_console_forms_are_refused_not_500(region, world):
    client = Client()
    client.force_login(region.operator_b)
    c, r, p = world["crisis"].pk, world["request"].pk, world["pledge"].pk
    before = _counts()
    for value in HUGE:
        for url, body in [
            (f"/aid/requests/{r}/pledge/", {"quantity": value}),
            (f"/aid/requests/{r}/pledge/", {"asset": value}),
        ]:
            response = client.post(url, body)
            assert response.status_code in {302, 400, 404}, (url, body, response.status_code)
    assert _counts() == before
    client.force_login(region.operator_a)
    for value in HUGE:
        body = {"sector": "sar", "item": "usar_team", "quantity": value,
                "needed_by": "2030-01-01T00:00", "priority": "normal"}  # fmt: skip
        response = client.post(f"/aid/{c}/requests/", body)
        assert response.status_code in {302, 400}, (value, response.status_code)
        response = client.post(f"/aid/pledges/{p}/confirm/", {"quantity_received": value})
        assert response.status_code in {302, 400, 409}, (value, response.status_code)
        response = client.post("/desk/", {"desk": value})
        assert response.status_code in {302, 400, 404}, (value, response.status_code)
    assert _counts() == before


def test_nul_byte_in_a_query_string_is_a_400(region, world, api_client):
    client = Client()
    client.force_login(region.operator_a)
    assert client.get(f"/aid/{world['crisis'].pk}/", {"import": "\x00"}).status_code == 400
    api_client.force_authenticate(region.operator_a)
    response = api_client.get("/api/v1/humanitarian/requests/", {"sector": "shel\x00ter"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


def test_import_with_a_figure_beyond_an_integer_column_names_the_row(region, world, api_client):
    bad = HXL_FILE.replace("2025-11-20,1,site,800", "2025-11-20,1,site,99999999999")
    api_client.force_authenticate(region.operator_a)
    response = upload(api_client, world["crisis"], bad)
    assert response.status_code == 400, response.content
    assert response.json()["details"]["errors"][0]["row"] == 4
    assert not DisplacementReport.objects.exists()


def test_nul_in_console_free_text_is_refused_not_500(region, world):
    client = Client()
    client.force_login(region.operator_a)
    before = _counts()
    c, p = world["crisis"].pk, world["pledge"].pk
    for url, body in [
        (f"/aid/pledges/{p}/decline/", {"reason": "no\x00"}),
        (f"/aid/pledges/{p}/confirm/", {"quantity_received": "1", "notes": "a\x00"}),
        (f"/crises/{c}/transition/", {"to_status": "de_escalating", "reason": "r\x00"}),
        (f"/crises/{c}/transition/", {"to_status": "de\x00", "reason": ""}),
    ]:
        response = client.post(url, body)
        assert response.status_code in {302, 400}, (url, response.status_code)
    assert _counts() == before
