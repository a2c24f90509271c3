"""Pages and their delivery, in process: the deadline engine fires the attempts
(``fire_due_deadlines``), mail goes to a real SMTP server, links are used with the test
client. The same with real worker processes is in ``test_worker.py``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from crisis.models import Crisis, EscalationAck, EscalationState
from crisis.services.crises import acknowledge_crisis
from deadlines.models import Deadline
from deadlines.services import fire_due_deadlines
from directory.models import DeskMembership
from paging.models import DeliveryAttempt, NotificationRule, Page, PagingPreference
from paging.rules import release_at
from paging.services import page_desk
from paging.services.delivery import ATTEMPT_KIND
from tests.crisis.factories import make_crisis, make_escalation_protocol
from tests.paging.conftest import verified_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def fire(django_capture_on_commit_callbacks):
    def fire():
        with django_capture_on_commit_callbacks(execute=True):
            return fire_due_deadlines()

    return fire


def page_a(region, key="t:1", urgency="escalation") -> Page:
    return page_desk(
        desk=region.desk_a,
        urgency=urgency,
        kind="test",
        subject_key=key,
        title="Test page",
        body="Something needs you.",
        link_path="/crises/1/",
    )


def ack_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/ack/[^/\s]+/)", message.body).group(1)


def test_each_person_on_duty_gets_one_email(region, smtp, fire):
    verified_email(region.operator_a)
    verified_email(region.supervisor_a)
    page = page_a(region)
    assert page_a(region).pk == page.pk  # idempotent per desk and subject
    assert page.attempts.count() == 2 and set(page.attempts.values_list("state", flat=True)) == {
        "queued"
    }
    assert fire() >= 2
    assert {m.to[0] for m in smtp.inbox.messages} == {"op-a@example.org", "sup-a@example.org"}
    message = smtp.inbox.to("op-a@example.org")[0]
    assert message.subject == "[ESCALATION] Test page"
    assert "Something needs you." in message.body and "/ack/" in message.body
    assert "desk AAA-DESK, as op-a" in message.body
    attempt = page.attempts.get(recipient__user=region.operator_a)
    assert attempt.state == "sent" and attempt.tries == 1
    assert attempt.message_id == message.message_id
    # The watchdog was cancelled: nothing is pending for the attempt any more.
    assert not Deadline.objects.filter(
        kind=ATTEMPT_KIND, subject_key=attempt.deadline_subject, state="pending"
    ).exists()
    assert fire() == 0 and smtp.inbox.count() == 2


def test_ack_link_shows_then_acknowledges_once_and_stops_everyone_else(region, smtp, fire, client):
    verified_email(region.operator_a)
    verified_email(region.supervisor_a)
    # The supervisor would be e-mailed again after five minutes.
    NotificationRule.objects.create(user=region.supervisor_a, urgency="escalation", kind="email")
    NotificationRule.objects.create(
        user=region.supervisor_a, urgency="escalation", kind="email", delay_seconds=300
    )
    page = page_a(region)
    fire()
    path = ack_path(smtp.inbox.to("op-a@example.org")[0])

    shown = client.get(path)
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "op-a" in html and "AAA-DESK" in html and "Test page" in html
    expires = page.created_at + timedelta(days=1)
    bangkok = expires.astimezone(region.desk_a.zone).strftime("%Y-%m-%d %H:%M Asia/Bangkok")
    utc = expires.astimezone(UTC).strftime("(%Y-%m-%d %H:%M UTC)")
    assert f"{bangkok} {utc}" in html
    assert f"until {bangkok} {utc}" in smtp.inbox.to("op-a@example.org")[0].body
    page.refresh_from_db()
    assert page.state == "open"  # a GET changes nothing

    done = client.post(path)
    assert done.status_code == 200, done.content
    assert "Acknowledged" in done.content.decode()
    page.refresh_from_db()
    assert page.state == "acknowledged" and page.acknowledged_by == region.operator_a
    later = page.attempts.get(recipient__user=region.supervisor_a, delay_seconds=300)
    assert later.state == "cancelled"
    assert not Deadline.objects.filter(kind=ATTEMPT_KIND, state="pending").exists()

    assert client.post(path).status_code == 409  # single use
    assert client.get(path).status_code == 409
    Deadline.objects.filter(kind=ATTEMPT_KIND).update(due_at=timezone.now())
    fire()
    assert smtp.inbox.count() == 2  # nobody else was paged after the ack


def test_ack_link_refused_when_expired_invalid_or_person_left(region, smtp, fire, client):
    verified_email(region.operator_a)
    verified_email(region.supervisor_a)
    page = page_a(region)
    fire()
    op_path = ack_path(smtp.inbox.to("op-a@example.org")[0])
    sup_path = ack_path(smtp.inbox.to("sup-a@example.org")[0])

    assert client.get(op_path[:-5] + "xxxx/").status_code == 400
    assert client.post("/ack/garbage/").status_code == 400

    DeskMembership.objects.filter(user=region.supervisor_a).delete()
    left = client.post(sup_path)
    assert left.status_code == 403 and "no longer acts for AAA-DESK" in left.content.decode()

    Page.objects.filter(pk=page.pk).update(created_at=timezone.now() - timedelta(days=2))
    expired = client.post(op_path)
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    page.refresh_from_db()
    assert page.state == "open"


def test_transient_failure_is_retried_with_backoff(region, smtp, fire, settings):
    verified_email(region.operator_a)
    settings.EMAIL_PORT = 1  # nothing listens there
    page = page_a(region)
    fire()
    attempt = page.attempts.get(recipient__user=region.operator_a)
    assert attempt.state == "queued" and attempt.tries == 1
    assert "could not reach the mail server" in attempt.last_error
    pending = Deadline.objects.get(
        kind=ATTEMPT_KIND, subject_key=attempt.deadline_subject, state="pending"
    )
    assert pending.due_at > timezone.now() + timedelta(seconds=3)  # backoff, 5 s

    settings.EMAIL_PORT = smtp.port
    Deadline.objects.filter(pk=pending.pk).update(due_at=timezone.now())
    fire()
    attempt.refresh_from_db()
    assert attempt.state == "sent" and attempt.tries == 2
    assert len(smtp.inbox.to("op-a@example.org")) == 1


def test_permanent_failure_fails_over_to_the_next_method(region, smtp, fire):
    verified_email(region.operator_a, "gone@example.org", position=0)
    verified_email(region.operator_a, "home@example.org", position=1)
    smtp.inbox.refused.add("gone@example.org")
    page = page_a(region)
    fire()
    first = page.attempts.get(address="gone@example.org")
    assert first.state == "failed" and "550" in first.failed_reason
    fire()
    second = page.attempts.get(address="home@example.org")
    assert second.state == "sent"
    assert [m.to for m in smtp.inbox.messages if "op-a" in m.body] == [["home@example.org"]]


def test_quiet_hours_hold_routine_never_escalation(region):
    PagingPreference.objects.create(
        user=region.operator_a, quiet_from=time(22, 0), quiet_until=time(6, 0)
    )
    # 23:30 in Bangkok (UTC+7) is 16:30 UTC.
    at = datetime(2026, 12, 1, 16, 30, tzinfo=UTC)
    held = release_at(region.operator_a, desk=region.desk_a, urgency="routine", at=at)
    assert held == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # 06:00 Bangkok
    for urgency in ("flash", "escalation"):
        assert release_at(region.operator_a, desk=region.desk_a, urgency=urgency, at=at) == at
    noon = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    assert release_at(region.operator_a, desk=region.desk_a, urgency="routine", at=noon) == noon


# --- the crisis hook -----------------------------------------------------------------------


def level_one_crisis(region) -> Crisis:
    for person in (region.operator_a, region.supervisor_a, region.operator_b, region.supervisor_b):
        verified_email(person)
    version = make_escalation_protocol()
    return make_crisis(region, version, affected=[region.state_a, region.state_b])


def test_crisis_level_pages_and_the_link_acknowledges_the_crisis(region, smtp, fire, client):
    crisis = level_one_crisis(region)
    fire()
    assert sorted(m.to[0] for m in smtp.inbox.messages) == [
        "op-a@example.org",
        "op-b@example.org",
        "sup-a@example.org",
        "sup-b@example.org",
    ]
    message = smtp.inbox.to("op-b@example.org")[0]
    deadline = crisis.level_deadline_at
    assert crisis.reference in message.subject and "escalation level 1" in message.subject
    assert deadline.astimezone(region.desk_b.zone).strftime("%Y-%m-%d %H:%M Asia/Manila") in (
        message.body
    )
    assert deadline.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") in message.body

    assert client.post(ack_path(message)).status_code == 200
    crisis.refresh_from_db()
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED
    assert EscalationAck.objects.get(crisis=crisis).desk == region.desk_b
    states = dict(Page.objects.values_list("desk__code", "state"))
    assert states == {"AAA-DESK": "closed", "BBB-DESK": "acknowledged"}
    # Desk A's link no longer acknowledges anything.
    other = client.post(ack_path(smtp.inbox.to("op-a@example.org")[0]))
    assert other.status_code == 409 and "acknowledged by BBB-DESK" in other.content.decode()


def test_console_acknowledgement_stops_the_paging(region, smtp, fire):
    crisis = level_one_crisis(region)
    with transaction.atomic():
        acknowledge_crisis(by=region.operator_a, desk=region.desk_a, crisis=crisis)
    assert set(DeliveryAttempt.objects.values_list("state", flat=True)) == {"cancelled"}
    assert not Deadline.objects.filter(kind=ATTEMPT_KIND, state="pending").exists()
    fire()
    assert smtp.inbox.count() == 0
    assert Page.objects.get(desk=region.desk_a).acknowledged_by == region.operator_a


def test_pages_api_shows_attempts_to_the_desk_only(region, smtp, fire, api_client):
    verified_email(region.operator_a)
    page_a(region)
    fire()
    api_client.force_authenticate(region.operator_a)
    [page] = api_client.get("/api/v1/pages/").json()["results"]
    assert page["desk"] == "AAA-DESK" and page["state_label"] == "Waiting for acknowledgement"
    assert [(a["person"], a["state"]) for a in page["attempts"]] == [
        ("op-a", "sent"),
        ("sup-a", "failed"),
    ]
    api_client.force_authenticate(region.operator_b)
    assert api_client.get("/api/v1/pages/").json()["results"] == []
    assert api_client.get(f"/api/v1/pages/{page['id']}/").status_code == 404


def test_next_level_ends_the_earlier_pages(region, smtp, fire, client):
    from tests.crisis.factories import expire

    crisis = level_one_crisis(region)
    fire()
    link = ack_path(smtp.inbox.to("op-a@example.org")[0])
    expire(crisis)  # level 1 times out: level 2 (the region's supervisors) is paged
    assert crisis.current_level == 2
    level_one = Page.objects.filter(subject_key__endswith=":level:1:round:0")
    assert set(level_one.values_list("state", "closed_reason")) == {("closed", "level 2 entered")}
    refused = client.post(link)
    assert refused.status_code == 409 and "level 2 entered" in refused.content.decode()
    assert Page.objects.filter(subject_key__endswith=":level:2:round:0", state="open").exists()


def test_api_acknowledgement_acknowledges_the_crisis_level(region, smtp, fire, api_client):
    crisis = level_one_crisis(region)
    page = Page.objects.get(desk=region.desk_b)
    api_client.force_authenticate(region.operator_c)  # not on desk B
    assert api_client.post(f"/api/v1/pages/{page.pk}/acknowledge/").status_code == 404
    api_client.force_authenticate(region.operator_b)
    done = api_client.post(f"/api/v1/pages/{page.pk}/acknowledge/")
    assert done.status_code == 200, done.json()
    assert done.json()["state"] == "acknowledged" and done.json()["acknowledged_by"] == "op-b"
    crisis.refresh_from_db()
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED
    assert set(DeliveryAttempt.objects.values_list("state", flat=True)) == {"cancelled"}
    again = api_client.post(f"/api/v1/pages/{page.pk}/acknowledge/")
    assert again.status_code == 409 and again.json()["code"] == "page_not_open"
    fire()
    assert smtp.inbox.count() == 0


def test_chunks_the_broker_cannot_take_are_sent_by_the_firing_process(region, smtp, fire, settings):
    """Claimed attempts beyond the first chunk go to the broker; with the broker away the
    firing process sends them itself, each once."""
    from tests.support.celery_worker import broker
    from tests.support.redis import free_port

    settings.PAGING_SEND_CHUNK = 1
    for person in (region.operator_a, region.supervisor_a):
        verified_email(person)
    page_a(region)
    with broker(f"redis://127.0.0.1:{free_port()}/0"):  # nobody listens there
        fire()
    assert sorted(a for m in smtp.inbox.messages for a in m.to) == [
        "op-a@example.org",
        "sup-a@example.org",
    ]
    assert set(DeliveryAttempt.objects.values_list("state", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_an_attempt_an_acknowledgement_holds_is_handed_back_and_sent_later(region, smtp):
    """The firing skips an attempt another transaction has locked (an acknowledgement
    cancelling it) instead of waiting or failing the batch: the others go out, its
    deadline goes back to pending and is fired again shortly."""
    import threading

    from django.db import connection

    verified_email(region.operator_a)
    verified_email(region.supervisor_a)
    page = page_a(region)
    held = page.attempts.order_by("pk").first()
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                DeliveryAttempt.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        fire_due_deadlines()
    finally:
        release.set()
        holder.join()
    assert [a for m in smtp.inbox.messages for a in m.to] == [
        a.address for a in page.attempts.exclude(pk=held.pk)
    ]
    held.refresh_from_db()
    assert held.state == "queued" and held.tries == 0
    deadline = Deadline.objects.get(
        kind=ATTEMPT_KIND, subject_key=held.deadline_subject, state="pending"
    )
    assert deadline.last_attempt_at is not None  # handed back, to be tried again shortly
    Deadline.objects.filter(pk=deadline.pk).update(last_attempt_at=None)  # that time passed
    fire_due_deadlines()
    assert sorted(a for m in smtp.inbox.messages for a in m.to) == [
        "op-a@example.org",
        "sup-a@example.org",
    ]
    held.refresh_from_db()
    assert held.state == "sent" and held.tries == 1
