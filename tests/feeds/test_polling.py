"""Polling a national agency's CAP feed over real HTTP: open, attach, repeat, conditional
GET, and feeds that fail (timeout, junk, oversize, HTTP errors) reported in words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from crisis.models import CapAlert, Crisis, TimelineEntry
from feeds import services
from feeds.models import CapFeed, EntryOutcome, FeedEntry
from tests.feeds.conftest import SENDER, SENT, cap_alert, make_feed

pytestmark = pytest.mark.django_db

UPDATE_REFS = f"{SENDER},TMD-EQ-1,{SENT}"


def written():
    return (Crisis.objects.count(), CapAlert.objects.count(), TimelineEntry.objects.count())


def test_a_new_alert_opens_one_crisis_an_update_attaches_a_repeat_does_nothing(
    region, agency, quake_trigger
):
    feed = make_feed(region, f"{agency.url}/feed.atom")
    agency.publish(
        "TMD-EQ-1", cap_alert("TMD-EQ-1"), title="Earthquake", updated="2026-11-24T01:30:00Z"
    )

    report = services.poll_feed(feed_id=feed.pk)

    assert report.ok and report.count(EntryOutcome.OPENED) == 1, report
    crisis = Crisis.objects.get()
    assert (crisis.category, crisis.severity, crisis.status) == ("earthquake", 4, "reported")
    assert crisis.lead_desk == region.desk_a and crisis.reported_by is None
    assert sorted(crisis.affected_states.values_list("code", flat=True)) == ["AAA", "BBB"]
    received = crisis.cap_alerts.get(direction="received")
    assert (received.sender, received.identifier) == (SENDER, "TMD-EQ-1")
    entry = crisis.timeline.get(kind="cap_received")
    assert entry.actor is None and entry.payload["source"]["agency"] == "TMD"
    assert entry.payload["source"]["url"] == f"{agency.url}/alerts/TMD-EQ-1.xml"
    (seen,) = FeedEntry.objects.all()
    assert (seen.outcome, seen.crisis, seen.identifier) == ("opened", crisis, "TMD-EQ-1")
    assert "Earthquake protocol" in seen.reason
    feed.refresh_from_db()
    assert feed.etag and feed.last_success_at and feed.failures == 0
    assert "1 opened a crisis" in services.health_words(feed)

    # the same feed again: a conditional GET, answered 304; nothing fetched or written
    before = written()
    again = services.poll_feed(feed_id=feed.pk)
    assert again.ok and again.not_modified
    last = agency.requests_for("/feed.atom")[-1]
    assert last.if_none_match == feed.etag and last.if_modified_since == feed.last_modified
    assert len(agency.requests_for("/alerts/TMD-EQ-1.xml")) == 1
    assert written() == before
    feed.refresh_from_db()
    assert "HTTP 304" in services.health_words(feed)

    # an Update that references the alert joins its crisis
    agency.publish(
        "TMD-EQ-2",
        cap_alert("TMD-EQ-2", msg_type="Update", references=UPDATE_REFS, severity="Extreme"),
        title="Earthquake (update)",
        updated="2026-11-24T02:00:00Z",
    )
    attached = services.poll_feed(feed_id=feed.pk)
    assert attached.count(EntryOutcome.ATTACHED) == 1 and attached.count(EntryOutcome.OPENED) == 0
    assert Crisis.objects.count() == 1
    assert list(crisis.cap_alerts.filter(direction="received").values_list("msg_type", flat=True)
                ) == ["Alert", "Update"]  # fmt: skip
    assert FeedEntry.objects.get(identifier="TMD-EQ-2").outcome == "attached"
    assert len(agency.requests_for("/alerts/TMD-EQ-1.xml")) == 1  # not fetched twice


def test_an_exercise_alert_opens_an_exercise_crisis_and_real_alerts_never_join_it(
    region, agency, quake_trigger
):
    feed = make_feed(region, f"{agency.url}/feed.atom")
    agency.publish(
        "TMD-EQ-1",
        cap_alert("TMD-EQ-1", status="Exercise"),
        title="Earthquake (drill)",
        updated="2026-11-24T01:30:00Z",
    )
    report = services.poll_feed(feed_id=feed.pk)
    assert report.count(EntryOutcome.OPENED) == 1, report.summary()
    drill = Crisis.objects.get()
    assert drill.exercise is True  # never a real crisis
    assert set(drill.cap_alerts.values_list("status", flat=True)) == {"Exercise"}  # ours too
    assert "never a real one" in FeedEntry.objects.get(identifier="TMD-EQ-1").reason
    # a real Update referencing the drill's alert is refused, not attached
    agency.publish(
        "TMD-EQ-2",
        cap_alert("TMD-EQ-2", msg_type="Update", references=UPDATE_REFS),
        title="Earthquake (update)",
        updated="2026-11-24T02:00:00Z",
    )
    before = written()
    crossed = services.poll_feed(feed_id=feed.pk)
    assert crossed.count(EntryOutcome.REFUSED) == 1, crossed.summary()
    assert written() == before
    assert (
        "real traffic never joins a drill"
        in FeedEntry.objects.get(link__endswith="TMD-EQ-2.xml").reason
    )


def test_without_conditional_get_a_repeat_fetches_no_alert_again(region, agency, quake_trigger):
    agency.conditional = False
    feed = make_feed(region, f"{agency.url}/feed.atom")
    agency.publish(
        "TMD-EQ-1", cap_alert("TMD-EQ-1"), title="Earthquake", updated="2026-11-24T01:30:00Z"
    )
    services.poll_feed(feed_id=feed.pk)
    before = written()
    report = services.poll_feed(feed_id=feed.pk)
    assert report.ok and not report.not_modified and report.summary() == "No new alerts."
    assert len(agency.requests_for("/feed.atom")) == 2
    assert len(agency.requests_for("/alerts/TMD-EQ-1.xml")) == 1
    assert written() == before


def test_the_same_alert_from_two_feeds_is_one_crisis(region, agency, quake_trigger):
    """A regional hub republishing a national agency's alert: a duplicate, by identifier."""
    national = make_feed(region, f"{agency.url}/feed.atom")
    hub = CapFeed.objects.create(url=f"{agency.url}/feed.rss", agency="Hub", state=region.state_b)
    agency.publish(
        "TMD-EQ-1", cap_alert("TMD-EQ-1"), title="Earthquake", updated="2026-11-24T01:30:00Z"
    )
    services.poll_feed(feed_id=national.pk)
    report = services.poll_feed(feed_id=hub.pk)  # RSS 2.0 this time
    assert report.ok and report.count(EntryOutcome.DUPLICATE) == 1, report.summary()
    assert Crisis.objects.count() == 1
    assert FeedEntry.objects.get(feed=hub).crisis == Crisis.objects.get()


def test_an_alert_no_trigger_matches_opens_nothing_and_is_not_fetched_again(
    region, agency, quake_trigger
):
    feed = make_feed(region, f"{agency.url}/feed.atom")
    agency.publish("TMD-EQ-1", cap_alert("TMD-EQ-1", severity="Minor"), title="Minor quake",
                   updated="2026-11-24T01:30:00Z")  # fmt: skip
    agency.publish("TMD-RAIN-1", cap_alert("TMD-RAIN-1", event="Heavy rain"), title="Rain",
                   updated="2026-11-24T01:40:00Z")  # fmt: skip
    report = services.poll_feed(feed_id=feed.pk)
    assert report.ok and report.count(EntryOutcome.UNMATCHED) == 2
    assert written() == (0, 0, 0)
    reasons = set(FeedEntry.objects.values_list("reason", flat=True))
    assert reasons == {
        "No protocol trigger matches event 'Earthquake' with severity Minor; nothing opened.",
        "No protocol trigger matches event 'Heavy rain' with severity Severe; nothing opened.",
    }
    agency.conditional = False
    services.poll_feed(feed_id=feed.pk)
    assert len(agency.requests_for("/alerts/TMD-EQ-1.xml")) == 1


def test_a_trigger_limited_to_states_and_one_switched_off(region, agency, quake_trigger):
    quake_trigger.states.set([region.state_c])
    feed = make_feed(region, f"{agency.url}/feed.atom")
    agency.publish("TMD-EQ-1", cap_alert("TMD-EQ-1"), title="Quake", updated="2026-11-24T01:30:00Z")
    services.poll_feed(feed_id=feed.pk)
    assert Crisis.objects.count() == 0  # the alert is about AAA (the feed) and BBB, not CCC
    quake_trigger.states.set([region.state_b])
    quake_trigger.is_active = False
    quake_trigger.save()
    agency.publish("TMD-EQ-9", cap_alert("TMD-EQ-9"), title="Quake", updated="2026-11-24T01:31:00Z")
    services.poll_feed(feed_id=feed.pk)
    assert Crisis.objects.count() == 0
    quake_trigger.is_active = True
    quake_trigger.save()
    agency.publish(
        "TMD-EQ-10", cap_alert("TMD-EQ-10"), title="Quake", updated="2026-11-24T01:32:00Z"
    )
    services.poll_feed(feed_id=feed.pk)
    assert Crisis.objects.get().category == "earthquake"


def test_alerts_that_are_not_usable_are_refused_with_a_reason(region, agency, quake_trigger):
    feed = make_feed(region, f"{agency.url}/feed.atom")
    agency.publish(
        "T-1", cap_alert("T-1", status="Test"), title="Test", updated="2026-11-24T01:30:00Z"
    )
    agency.publish("T-2", "<html>not CAP</html>", title="Broken", updated="2026-11-24T01:31:00Z")
    cancel = cap_alert("T-3", msg_type="Cancel", references=f"x,y,{SENT}")
    agency.publish("T-3", cancel, title="Cancel", updated="2026-11-24T01:32:00Z")
    report = services.poll_feed(feed_id=feed.pk)
    assert report.ok and report.count(EntryOutcome.REFUSED) == 2, report.summary()
    assert report.count(EntryOutcome.UNMATCHED) == 1
    assert written() == (0, 0, 0)
    reasons = {e.link.rsplit("/", 1)[-1]: e.reason for e in FeedEntry.objects.all()}
    assert "status Test" in reasons["T-1.xml"] and "alert/status" in reasons["T-1.xml"]
    assert "<html>" in reasons["T-2.xml"] and "expected <alert>" in reasons["T-2.xml"]
    assert reasons["T-3.xml"] == "A Cancel of an alert we do not hold."
    feed.refresh_from_db()
    assert feed.failures == 0 and "2 refused" in services.health_words(feed)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/slow.atom", "no answer within 0.5 s (timed out)."),
        ("/junk.atom", "the answer is not an Atom or RSS feed"),
        ("/garbage.atom", "the answer is not an Atom or RSS feed"),
        ("/huge.atom", "more than the limit of 1024 KiB."),
        ("/endless.atom", "larger than the limit of 1024 KiB; stopped reading."),
        ("/broken.atom", "the server answered HTTP 500 Internal Server Error instead of"),
    ],
)
def test_a_failing_feed_is_reported_in_words_and_not_fatal(
    region, agency, quake_trigger, settings, api_client, path, words
):
    settings.CAP_FEED_TIMEOUT_SECONDS = 0.5
    settings.CAP_FEED_MAX_BYTES = 1024 * 1024
    settings.CAP_FEED_POLL_SECONDS = 60
    bad = make_feed(region, f"{agency.url}{path}")
    good = make_feed(region, f"{agency.url}/feed.atom")
    agency.publish("TMD-EQ-1", cap_alert("TMD-EQ-1"), title="Quake", updated="2026-11-24T01:30:00Z")

    reports = {r.feed_id: r for r in services.poll_due_feeds()}

    assert reports[good.pk].ok and Crisis.objects.count() == 1  # the other feed went on
    assert not reports[bad.pk].ok
    bad.refresh_from_db()
    assert words in bad.last_error, bad.last_error
    assert bad.failures == 1 and bad.last_success_at is None
    first_wait = bad.next_poll_at - bad.last_error_at
    assert first_wait == timedelta(seconds=60)
    assert bad.pk not in services.due_feed_ids()  # backing off
    # Health, as a coordinator reads it.
    api_client.force_authenticate(region.coordinator)
    shown = api_client.get(f"/api/v1/cap/feeds/{bad.pk}/").json()
    assert shown["status"] == "failing" and shown["failures"] == 1
    assert shown["health"].startswith("Failing: the ") or shown["health"].startswith("Failing: no")
    assert (
        words in shown["health"] and "1 failed poll in a row; last success never" in shown["health"]
    )
    # Again: the wait doubles.
    services.poll_feed(feed_id=bad.pk)
    bad.refresh_from_db()
    assert bad.failures == 2 and bad.next_poll_at - bad.last_error_at == timedelta(seconds=120)


def test_an_alert_that_cannot_be_fetched_is_tried_again(region, agency, quake_trigger):
    feed = make_feed(region, f"{agency.url}/feed.atom")
    agency.publish("TMD-EQ-1", cap_alert("TMD-EQ-1"), title="Quake", updated="2026-11-24T01:30:00Z")
    agency.publish("LATE", cap_alert("TMD-EQ-7"), title="Quake 2", updated="2026-11-24T01:31:00Z")
    agency.extra["/alerts/LATE.xml"] = (503, "text/plain", b"busy")
    report = services.poll_feed(feed_id=feed.pk)
    assert report.ok and report.count(EntryOutcome.OPENED) == 1 and len(report.problems) == 1
    feed.refresh_from_db()
    assert feed.etag == ""  # not stored: the next poll must see the feed again
    health = services.health_words(feed)
    assert "1 could not be fetched and will be tried again" in health
    assert f"Problem: alert {agency.url}/alerts/LATE.xml: the server answered HTTP 503" in health
    del agency.extra["/alerts/LATE.xml"]
    again = services.poll_feed(feed_id=feed.pk)
    assert again.count(EntryOutcome.OPENED) == 1 and not again.problems
    assert Crisis.objects.count() == 2
    feed.refresh_from_db()
    assert feed.etag and "Problem" not in services.health_words(feed)


def test_a_feed_with_no_desk_for_its_state_says_so(region, agency, quake_trigger):
    region.desk_a.is_active = False
    region.desk_a.save()
    feed = make_feed(region, f"{agency.url}/feed.atom")
    agency.publish("TMD-EQ-1", cap_alert("TMD-EQ-1"), title="Quake", updated="2026-11-24T01:30:00Z")
    report = services.poll_feed(feed_id=feed.pk)
    assert not report.ok and "State A has no active desk" in report.error
    assert Crisis.objects.count() == 0


def test_a_leased_feed_is_not_polled_twice(region, agency):
    feed = make_feed(region, f"{agency.url}/feed.atom")
    CapFeed.objects.filter(pk=feed.pk).update(lease_until=timezone.now() + timedelta(minutes=5))
    assert services.poll_feed(feed_id=feed.pk) is None
    assert agency.requests_for("/feed.atom") == []
    CapFeed.objects.filter(pk=feed.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert services.poll_feed(feed_id=feed.pk).ok
    feed.refresh_from_db()
    assert feed.lease_until is None


def test_the_command_polls_once_and_says_what_came_of_it(region, agency, quake_trigger, capsys):
    make_feed(region, f"{agency.url}/feed.atom")
    make_feed(region, f"{agency.url}/broken.atom")
    agency.publish("TMD-EQ-1", cap_alert("TMD-EQ-1"), title="Quake", updated="2026-11-24T01:30:00Z")
    call_command("poll_cap_feeds")
    out = capsys.readouterr().out
    reference = Crisis.objects.get().reference
    assert f"TMD {agency.url}/feed.atom: New alerts: 1 opened a crisis ({reference})." in out
    assert "Failed: the server answered HTTP 500" in out
    assert "2 feed(s) polled, 1 failed." in out
    call_command("poll_cap_feeds")  # the broken one is backing off; the good one is 304
    out = capsys.readouterr().out
    assert "Not changed since the last poll (HTTP 304)." in out and "1 feed(s) polled" in out
    call_command("poll_cap_feeds", "--all")
    assert "2 feed(s) polled, 1 failed." in capsys.readouterr().out
