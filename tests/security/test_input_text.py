"""Text that may reach a CAP alert is refused at input if XML cannot carry it (issue 14,
finding 12): one stored U+0001 used to make every later alert of the crisis a 500."""

import pytest

from crisis.models import CapAlert, Crisis, SituationUpdate, TimelineEntry
from tests.crisis.factories import report

pytestmark = pytest.mark.django_db

REPORT = {
    "category": "maritime",
    "title": "Ferry capsized near the maritime border",
    "severity": 4,
    "affected_states": ["AAA", "BBB"],
    "description": "120 passengers on board.",
    "admin_area": "AA-91 Coast",
}
BAD = ["\x01", "\x0b", "\x1f", "\ufffe", "\uffff"]


def written():
    return (
        Crisis.objects.count(),
        SituationUpdate.objects.count(),
        CapAlert.objects.count(),
        TimelineEntry.objects.count(),
    )


def assert_refused(response, field: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_text", body
    assert field in body["details"]["fields"], body
    assert field in body["message"] and "U+" in body["message"]
    return body


@pytest.mark.parametrize("char", BAD)
def test_a_situation_update_xml_cannot_carry_is_refused_and_the_crisis_keeps_working(
    region, api_client, char
):
    crisis = report(region)
    api_client.force_authenticate(region.operator_a)
    before = written()
    response = api_client.post(
        f"/api/v1/crises/{crisis.pk}/updates/",
        {"conditions": f"Fog{char} over the strait"},
        format="json",
    )
    assert_refused(response, "conditions")
    assert written() == before
    # Every action that issues a CAP alert still works.
    severity = api_client.post(
        f"/api/v1/crises/{crisis.pk}/severity/", {"severity": 5}, format="json"
    )
    assert severity.status_code == 200, severity.content
    assert CapAlert.objects.filter(crisis=crisis).count() == 2


@pytest.mark.parametrize("field", ["title", "description", "admin_area"])
def test_a_new_crisis_with_such_a_character_is_refused(region, api_client, field):
    api_client.force_authenticate(region.operator_a)
    response = api_client.post(
        "/api/v1/crises/", {**REPORT, field: f"{REPORT[field]}\x01"}, format="json"
    )
    assert_refused(response, field)
    assert written() == (0, 0, 0, 0)


def test_tab_newline_and_carriage_return_are_fine(region, api_client):
    api_client.force_authenticate(region.operator_a)
    text = "Line one\r\n\tLine two, ünïcode ✓"
    response = api_client.post("/api/v1/crises/", {**REPORT, "description": text}, format="json")
    assert response.status_code == 201, response.content
    assert "ünïcode ✓" in CapAlert.objects.get().raw_xml


def test_the_console_form_names_the_field(region, client):
    client.force_login(region.operator_a)
    response = client.post(
        "/crises/new/",
        {
            "category": "maritime",
            "title": "Ferry\x0b capsized",
            "severity": "4",
            "affected_states": ["AAA"],
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "title" in form.errors and "U+000B" in form.errors["title"][0]
    assert written() == (0, 0, 0, 0)


def test_text_stored_before_the_check_does_not_stop_the_alerts(region, api_client):
    crisis = report(region)
    Crisis.objects.filter(pk=crisis.pk).update(description="Old\x01 text")  # legacy data
    api_client.force_authenticate(region.operator_a)
    response = api_client.post(
        f"/api/v1/crises/{crisis.pk}/severity/", {"severity": 5}, format="json"
    )
    assert response.status_code == 200, response.content
    latest = CapAlert.objects.filter(crisis=crisis).order_by("-id").first()
    assert "Old\ufffd text" in latest.raw_xml
