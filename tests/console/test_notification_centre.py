"""The notification centre: the API (scoped, newest first, unread filter, read), the
console page with each notification's paging deliveries, and the badge's count."""

import pytest

from crisis.models import Notification
from paging.models import DeliveryAttempt
from tests.crisis.factories import AFFECTED, make_crisis, make_escalation_protocol

pytestmark = pytest.mark.django_db


@pytest.fixture
def crisis(region):
    version = make_escalation_protocol(
        levels=({**AFFECTED, "actions": ["alert_regional_centre", "notify_all_states"]},)
    )
    return make_crisis(region, version)


def test_api_lists_the_callers_desks_notifications_newest_first(
    region, crisis, api_client, django_assert_max_num_queries
):
    Notification.objects.create(desk=region.desk_b, kind="x", title="older for B")
    api_client.force_authenticate(region.operator_b)
    with django_assert_max_num_queries(12):
        listed = api_client.get("/api/v1/notifications/")
    assert listed.status_code == 200
    body = listed.json()
    assert [n["desk"] for n in body["results"]] == ["BBB-DESK", "BBB-DESK"]
    newest = body["results"][0]
    assert newest["title"] == "older for B"  # created last
    told = body["results"][1]
    assert told["kind"] == "crisis.all_states_informed"
    assert told["crisis_reference"] == crisis.reference
    assert told["link_path"] == f"/crises/{crisis.pk}/"
    assert told["page"]["urgency"] == "escalation"
    assert told["page"]["attempts"][0]["person"] == "sup-b"  # on duty: supervisors' fallback
    assert {n["desk"] for n in body["results"]} == {"BBB-DESK"}  # never another desk's

    read = api_client.post(f"/api/v1/notifications/{told['id']}/read/")
    assert read.status_code == 200 and read.json()["is_read"] is True
    unread = api_client.get("/api/v1/notifications/?unread=true").json()
    assert [n["title"] for n in unread["results"]] == ["older for B"]
    assert api_client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    assert api_client.post(f"/api/v1/notifications/{told['id']}/read/").status_code == 200


def test_api_refuses_others_notifications_and_junk(region, crisis, api_client):
    centre_note = Notification.objects.get(desk=region.centre, crisis=crisis)
    api_client.force_authenticate(region.operator_b)
    assert api_client.post(f"/api/v1/notifications/{centre_note.pk}/read/").status_code == 404
    centre_note.refresh_from_db()
    assert centre_note.read_at is None
    assert api_client.post("/api/v1/notifications/99999999999999999999/read/").status_code == 404
    bad = api_client.get("/api/v1/notifications/?unread=maybe")
    assert bad.status_code == 400 and bad.json()["code"]
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/notifications/").status_code in (401, 403)


def test_console_page_shows_deliveries_and_marks_read(region, crisis, client):
    client.force_login(region.coordinator)
    page = client.get("/notifications/").content.decode()
    assert "the regional centre is alerted" in page
    assert f'href="/crises/{crisis.pk}/"' in page
    attempt = DeliveryAttempt.objects.filter(page__desk=region.centre).first()
    assert attempt is None or attempt.recipient.user.username in page
    assert "1 unread of 1" in page
    note = Notification.objects.get(desk=region.centre, crisis=crisis)
    assert client.post(f"/notifications/{note.pk}/read/").status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None
    assert "0 unread of 1" in client.get("/notifications/").content.decode()


def test_console_page_lists_who_was_paged_how_and_the_outcome(region, crisis, client):
    client.force_login(region.operator_b)
    html = client.get("/notifications/?part=notifications").content.decode()
    # The supervisor (on duty by the fallback) has no verified method: said so, not hidden.
    assert "<td>sup-b</td>" in html and "Failed: no verified contact method" in html
    assert "AAA-DESK" not in html
    badge_source = client.get("/").content.decode()
    assert 'id="unread-badge"' in badge_source
    assert "/api/v1/notifications/unread-count/" in badge_source
