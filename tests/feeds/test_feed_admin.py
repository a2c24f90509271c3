"""Feed configuration (admin, CAP_FEEDS), health for the regional centre, the beat task."""

from __future__ import annotations

import pytest
from django.core import checks
from django.urls import reverse

from config.celery import app
from crisis.models import Crisis
from feeds import services, tasks
from feeds.models import CapFeed
from tests.feeds.conftest import cap_alert, make_feed

pytestmark = pytest.mark.django_db


def test_cap_feeds_setting_is_kept_in_step(region, settings):
    settings.CAP_FEEDS = [
        {"url": "https://tmd.example/cap.atom", "state": "aaa", "agency": "TMD"},
        {"url": "https://nowhere.example/cap.atom", "state": "NZL", "agency": "X"},
    ]
    problems = services.sync_feeds_from_settings()
    assert problems == [
        "CAP_FEEDS: https://nowhere.example/cap.atom names state 'NZL', which is not a member "
        "state; skipped."
    ]
    feed = CapFeed.objects.get()
    assert (feed.agency, feed.state, feed.from_settings, feed.is_active) == (
        "TMD", region.state_a, True, True
    )  # fmt: skip
    manual = make_feed(region, "https://manual.example/cap.atom")
    settings.CAP_FEEDS = []
    assert services.sync_feeds_from_settings() == []
    feed.refresh_from_db()
    manual.refresh_from_db()
    assert not feed.is_active and manual.is_active  # only the setting's own are switched off


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({"url": "x"}, "must be a JSON list"),
        ([{"url": "https://a.example/"}], "exactly url, state and agency"),
        ([{"url": "ftp://a.example/", "state": "AAA", "agency": "A"}], "http:// or https://"),
        ([{"url": "https://a.example/", "state": "", "agency": "A"}], "non-empty text"),
    ],
)
def test_a_malformed_cap_feeds_setting_fails_the_system_check(settings, value, words):
    settings.CAP_FEEDS = value
    errors = [e for e in checks.run_checks() if e.id == "feeds.E001"]
    assert len(errors) == 1 and words in errors[0].msg


def test_feed_health_is_for_the_regional_centre(region, api_client):
    feed = make_feed(region, "http://127.0.0.1:9/feed.atom")
    for who in ("coordinator", "auditor"):
        api_client.force_authenticate(getattr(region, who))
        (row,) = api_client.get("/api/v1/cap/feeds/").json()
        assert (row["url"], row["state"], row["status"], row["health"]) == (
            feed.url, "AAA", "not_polled", "Not polled yet."
        )  # fmt: skip
        detail = api_client.get(f"/api/v1/cap/feeds/{feed.pk}/").json()
        assert detail["recent_entries"] == []
    for who in ("operator_a", "supervisor_a", "operator_c"):
        api_client.force_authenticate(getattr(region, who))
        listed = api_client.get("/api/v1/cap/feeds/")
        assert listed.status_code == 403 and listed.json()["code"] == "regional_only"
        assert api_client.get(f"/api/v1/cap/feeds/{feed.pk}/").status_code == 404
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/cap/feeds/").status_code in (401, 403)


def test_staff_add_and_poll_a_feed_in_the_admin(region, agency, quake_trigger, client):
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_superuser("staff", "s@example.org", "pw")
    client.force_login(staff)
    response = client.post(
        reverse("admin:feeds_capfeed_add"),
        {"url": f"{agency.url}/feed.atom", "agency": "TMD", "state": region.state_a.pk,
         "desk": region.desk_b.pk, "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 200 and "must belong to the feed" in response.content.decode()
    response = client.post(
        reverse("admin:feeds_capfeed_add"),
        {"url": f"{agency.url}/feed.atom", "agency": "TMD", "state": region.state_a.pk,
         "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    feed = CapFeed.objects.get()
    agency.publish("TMD-EQ-1", cap_alert("TMD-EQ-1"), title="Quake", updated="2026-11-24T01:30:00Z")
    response = client.post(
        reverse("admin:feeds_capfeed_changelist"),
        {"action": "poll_now", "_selected_action": [feed.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert f"TMD: New alerts: 1 opened a crisis ({Crisis.objects.get().reference})." in page
    change = client.get(reverse("admin:feeds_capfeed_change", args=[feed.pk])).content.decode()
    assert "OK: polled" in change
    assert client.get(reverse("admin:feeds_feedentry_changelist")).status_code == 200
    assert client.get(reverse("admin:feeds_captrigger_changelist")).status_code == 200


def test_beat_polls_every_due_feed_through_one_task_each(region, agency, quake_trigger, settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["cap-feeds"]
    assert schedule["task"] == "feeds.tasks.poll_cap_feeds"
    assert schedule["schedule"] == settings.CAP_FEED_POLL_SECONDS
    assert {"feeds.tasks.poll_cap_feeds", "feeds.tasks.poll_cap_feed"} <= set(app.tasks)
    make_feed(region, f"{agency.url}/feed.atom")
    agency.publish("TMD-EQ-1", cap_alert("TMD-EQ-1"), title="Quake", updated="2026-11-24T01:30:00Z")
    app.conf.task_always_eager = True
    try:
        assert tasks.poll_cap_feeds() == 1
    finally:
        app.conf.task_always_eager = False
    assert Crisis.objects.count() == 1
