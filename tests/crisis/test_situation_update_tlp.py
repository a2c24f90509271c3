"""TLP markings on situation updates: who reads them, and what never leaves (timeline,
CAP alerts, HXL exports, the console)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crisis.models import SituationUpdate, TimelineEntry
from crisis.services import crises as services
from tests.crisis.factories import activate, report
from tests.support.api import body

pytestmark = pytest.mark.django_db

RED_TEXT = "Hostage negotiators aboard: RED only"
STRICT_TEXT = "Navy asset positions: AMBER+STRICT"
AMBER_TEXT = "Slick drifting south-east: AMBER"
GREEN_TEXT = "Ferries suspended: GREEN"


@pytest.fixture
def crisis(region, protocol):
    """Active, with desks A (lead) and B (affected) as parties; four marked updates."""
    crisis = activate(region, report(region))
    for text, tlp in (
        (GREEN_TEXT, None),
        (AMBER_TEXT, "AMBER"),
        (STRICT_TEXT, "AMBER+STRICT"),
        (RED_TEXT, "TLP:RED"),
    ):
        services.post_situation_update(
            by=region.operator_b, desk=region.desk_b, crisis=crisis, conditions=text, tlp=tlp
        )
    return crisis


def read_everything(api_client, crisis) -> str:
    """Every API surface of the crisis that quotes a situation update, as one text."""
    base = f"/api/v1/crises/{crisis.pk}"
    texts = []
    for path in ("/", "/updates/", "/timeline/", "/cap-alerts/"):
        response = api_client.get(base + path)
        assert response.status_code == 200, (path, response.content)
        texts.append(response.content.decode())
    cap = api_client.get(base + "/cap.xml")
    assert cap.status_code == 200
    texts.append(cap.content.decode())
    for kind in ("requests", "pledges", "deliveries", "shelters", "displacement"):
        export = api_client.get(f"/api/v1/humanitarian/exports/{kind}.csv")
        assert export.status_code == 200
        texts.append(body(export).decode())
    return "\n".join(texts)


def test_the_default_is_green_and_the_marking_is_shown(region, crisis, api_client):
    api_client.force_authenticate(region.operator_a)
    rows = api_client.get(f"/api/v1/crises/{crisis.pk}/updates/").json()["results"]
    assert [(r["conditions"], r["tlp"], r["tlp_label"]) for r in rows] == [
        (RED_TEXT, "RED", "TLP:RED"),
        (STRICT_TEXT, "AMBER+STRICT", "TLP:AMBER+STRICT"),
        (AMBER_TEXT, "AMBER", "TLP:AMBER"),
        (GREEN_TEXT, "GREEN", "TLP:GREEN"),
    ]
    bad = api_client.post(
        f"/api/v1/crises/{crisis.pk}/updates/", {"conditions": "x", "tlp": "WHITE"}, format="json"
    )
    assert bad.status_code == 400 and "tlp" in bad.content.decode()


def test_red_is_for_the_parties_of_when_it_was_posted(region, crisis, api_client):
    red = SituationUpdate.objects.get(tlp="RED")
    assert set(red.recipient_desks.values_list("code", flat=True)) == {"AAA-DESK", "BBB-DESK"}
    services.set_participant(
        by=region.coordinator, crisis=crisis, desk=region.desk_c, role="supporting"
    )
    for person, sees_red, sees_strict in (
        (region.operator_a, True, True),
        (region.operator_b, True, True),
        (region.operator_c, False, False),  # party since, after the RED update
        (region.coordinator, False, False),  # sees every crisis; no recipient
        (region.auditor, False, False),
    ):
        api_client.force_authenticate(person)
        text = read_everything(api_client, crisis)
        assert (RED_TEXT in text) is sees_red, person
        assert (STRICT_TEXT in text) is sees_strict, person
        assert AMBER_TEXT in text and GREEN_TEXT in text


def test_narrow_updates_stay_out_of_the_timeline_cap_and_latest(region, crisis, api_client):
    payloads = [
        e.payload for e in TimelineEntry.objects.filter(crisis=crisis, kind="situation_update")
    ]
    assert [p["tlp"] for p in payloads] == ["GREEN", "AMBER", "AMBER+STRICT", "RED"]
    assert "conditions" not in payloads[2] and "conditions" not in payloads[3]
    crisis.refresh_from_db()
    assert crisis.latest_update.conditions == AMBER_TEXT
    # A CAP alert goes to every desk of the service: only CLEAR and GREEN text goes in.
    services.change_severity(by=region.operator_a, desk=region.desk_a, crisis=crisis, severity=4)
    api_client.force_authenticate(region.operator_a)
    cap = api_client.get(f"/api/v1/crises/{crisis.pk}/cap.xml").content.decode()
    assert GREEN_TEXT in cap
    assert all(text not in cap for text in (AMBER_TEXT, STRICT_TEXT, RED_TEXT))


def test_the_console_shows_each_update_with_its_label(region, crisis, client):
    client.force_login(region.operator_a)
    page = client.get(reverse("console:crisis", args=[crisis.pk])).content.decode()
    assert RED_TEXT in page and ">TLP:RED<" in page and 'class="tlp tlp-red"' in page
    assert ">TLP:AMBER+STRICT<" in page and ">TLP:GREEN<" in page
    client.force_login(region.coordinator)
    page = client.get(reverse("console:crisis", args=[crisis.pk])).content.decode()
    assert RED_TEXT not in page and STRICT_TEXT not in page and GREEN_TEXT in page
    part = client.get(reverse("console:crisis", args=[crisis.pk]) + "?part=updates")
    assert part.status_code == 200 and RED_TEXT not in part.content.decode()
