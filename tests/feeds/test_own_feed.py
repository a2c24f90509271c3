"""Our own CAP feed: Atom that feedparser reads, each entry linking to a CAP 1.2 document
that validates against the schema we ship; entries follow crisis visibility."""

from __future__ import annotations

import feedparser
import pytest

from audit.models import ReadRecord
from crisis import cap
from crisis.models import CapAlert
from crisis.services import crises as services
from tests.crisis.factories import make_protocol, report

pytestmark = pytest.mark.django_db

FEED = "/api/v1/cap/feed.atom"


def read_feed(api_client, query: str = "", **headers):
    response = api_client.get(FEED + query, **headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert parsed.version == "atom10" and not parsed.bozo, parsed.get("bozo_exception")
    return parsed


@pytest.fixture
def crises(region):
    """A's crisis (B affected) with an Alert and two Updates; C's own crisis."""
    make_protocol()
    a = report(region)
    services.transition_crisis(
        by=region.supervisor_a, desk=region.desk_a, crisis=a, to_status="active"
    )
    services.change_severity(by=region.operator_a, desk=region.desk_a, crisis=a, severity=5)
    c = services.report_crisis(
        by=region.operator_c, desk=region.desk_c, category="flood", title="River bursts banks",
        severity=2, affected_state_codes=["CCC"],
    )  # fmt: skip
    return a, c


def test_our_feed_parses_and_every_linked_alert_validates(region, api_client, crises):
    api_client.force_authenticate(region.coordinator)
    parsed = read_feed(api_client)
    assert parsed.feed.title == "CAP alerts issued by the regional crisis service"
    assert len(parsed.entries) == 4  # newest first
    assert [e.title.split(":")[0] for e in parsed.entries] == ["Alert", "Update", "Update", "Alert"]
    for entry in parsed.entries:
        (link,) = [lk for lk in entry.links if lk.type == "application/cap+xml"]
        assert link.href.startswith("http://testserver/api/v1/cap/alerts/")
        document = api_client.get(link.href.removeprefix("http://testserver"))
        assert document.status_code == 200
        assert document["Content-Type"] == "application/cap+xml; charset=utf-8"
        assert cap.validate_document(document.content) is None  # the CAP 1.2 XSD we ship
        message = cap.parse_alert(document.content)
        assert entry.id == f"urn:cap:{message.sender}:{message.identifier}"
        assert entry.updated_parsed is not None
    assert ReadRecord.objects.filter(what="cap.alert_xml").count() == 4


def test_entries_follow_crisis_visibility_and_the_state_filter(region, api_client, crises):
    a, c = crises
    identifiers = {
        who: [e.id.rsplit(":", 1)[-1] for e in read_feed(api_client).entries]
        for who in ("operator_a", "operator_b", "operator_c", "auditor")
        if api_client.force_authenticate(getattr(region, who)) is None
    }
    ours = [f"{a.reference}.3", f"{a.reference}.2", f"{a.reference}.1"]
    assert identifiers["operator_a"] == ours  # A reported it
    assert identifiers["operator_b"] == ours  # B is affected
    assert identifiers["operator_c"] == [f"{c.reference}.1"]  # C sees only its own
    assert len(identifiers["auditor"]) == 4
    api_client.force_authenticate(region.coordinator)
    only_c = read_feed(api_client, "?state=ccc")
    assert [e.id.rsplit(":", 1)[-1] for e in only_c.entries] == [f"{c.reference}.1"]
    assert only_c.feed.title.endswith("about State C")
    # C cannot read A's alert documents either: hidden is missing.
    api_client.force_authenticate(region.operator_c)
    hidden = a.cap_alerts.filter(direction="issued").first()
    response = api_client.get(f"/api/v1/cap/alerts/{hidden.pk}.xml")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize("value", ["", "XX", "ZZZ", "TH A", "A" * 50])
def test_a_bad_state_is_refused_with_the_reason(region, api_client, value):
    api_client.force_authenticate(region.operator_a)
    response = api_client.get(FEED, {"state": value})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unknown_state"
    assert body["message"] == (
        "state must be a member state's ISO 3166-1 alpha-3 code (one of: AAA, BBB, CCC)."
    )


def test_only_authenticated_callers_and_feed_readers_get_atom(region, api_client, crises):
    assert api_client.get(FEED).status_code in (401, 403)
    alert = CapAlert.objects.filter(direction="issued", crisis=crises[0]).first()
    assert api_client.get(f"/api/v1/cap/alerts/{alert.pk}.xml").status_code in (401, 403)
    api_client.force_authenticate(region.operator_a)
    # A feed reader asks for Atom (or CAP) by name: it gets it, never a 406.
    parsed = read_feed(api_client, HTTP_ACCEPT="application/atom+xml")
    assert len(parsed.entries) == 3
    response = api_client.get(
        f"/api/v1/cap/alerts/{alert.pk}.xml", HTTP_ACCEPT="application/cap+xml"
    )
    assert response.status_code == 200
    # Errors stay JSON whatever was asked for.
    response = api_client.get(FEED, {"state": "ZZZ"}, HTTP_ACCEPT="application/atom+xml")
    assert response.status_code == 400 and response.json()["code"] == "unknown_state"


def test_received_alerts_are_not_served_as_ours(region, api_client):
    from crisis.services.cap_intake import ingest_cap_alert
    from tests.feeds.conftest import cap_alert

    intake = ingest_cap_alert(by=region.operator_a, desk=region.desk_a, xml=cap_alert("X-1"))
    api_client.force_authenticate(region.coordinator)
    assert api_client.get(f"/api/v1/cap/alerts/{intake.alert.pk}.xml").status_code == 404
    issued = intake.crisis.cap_alerts.get(direction="issued")
    assert api_client.get(f"/api/v1/cap/alerts/{issued.pk}.xml").status_code == 200
