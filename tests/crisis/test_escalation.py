"""Crisis escalation on the deadline engine: levels, acknowledgements, expiry, repeats,
ack timeouts, stopping, and the failure classes on-call tools are known for."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.utils import timezone

from core.errors import InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from core.events import desk_group
from crisis.models import Crisis, EscalationLevel, EscalationState, Notification, TimelineEntry
from crisis.services import timeline
from crisis.services.crises import acknowledge_crisis
from crisis.services.escalation import report_progress, stop_escalation
from deadlines.models import Deadline
from deadlines.services import fire_deadline, fire_due_deadlines, sweep
from tests.crisis.factories import (
    AFFECTED,
    expire,
    kinds,
    make_crisis,
    make_escalation_protocol,
    pending_deadline,
)
from tests.support.concurrency import run_together

pytestmark = pytest.mark.django_db


def ack(region, crisis, user=None, desk=None):
    return acknowledge_crisis(
        by=user or region.operator_a, crisis=crisis, desk=desk or region.desk_a
    )


def test_level_one_notifies_its_desks_live_and_arms_its_deadline(
    region, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(desk_group(region.desk_a.pk), channel)
    with django_capture_on_commit_callbacks(execute=True):
        crisis = make_crisis(region, make_escalation_protocol())

    assert crisis.escalation_state == EscalationState.ESCALATING and crisis.current_level == 1
    notes = Notification.objects.filter(crisis=crisis)
    assert [(n.desk, n.kind) for n in notes] == [(region.desk_a, "escalation.level")]
    deadline = pending_deadline(crisis)
    assert deadline.due_at == crisis.level_deadline_at
    assert abs((deadline.due_at - timezone.now()).total_seconds() - 600) < 5
    assert kinds(crisis) == ["level_entered"]
    try:
        frame = async_to_sync(asyncio.wait_for)(layer.receive(channel), 5)
    finally:
        async_to_sync(layer.group_discard)(desk_group(region.desk_a.pk), channel)
    event = frame["event"]
    assert event["type"] == "escalation.level" and event["level"] == 1
    assert event["crisis"]["reference"] == crisis.reference


def test_ack_before_the_deadline_means_no_escalation(region):
    crisis = make_crisis(region, make_escalation_protocol())
    deadline = pending_deadline(crisis)
    ack(region, crisis)
    crisis.refresh_from_db()
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED
    assert pending_deadline(crisis) is None
    # The level's task arrives on time anyway, and the sweep runs much later: nothing.
    Deadline.objects.filter(pk=deadline.pk).update(due_at=timezone.now())
    assert fire_deadline(deadline.pk, deadline.token) is False
    sweep(now=timezone.now() + timedelta(hours=2))
    crisis.refresh_from_db()
    assert crisis.current_level == 1 and kinds(crisis) == ["level_entered", "acknowledged"]


def test_no_ack_moves_to_the_next_level_with_its_recipients(region):
    crisis = make_crisis(region, make_escalation_protocol())
    assert expire(crisis) == 1
    assert crisis.current_level == 2 and crisis.escalation_state == EscalationState.ESCALATING
    level2 = Notification.objects.filter(crisis=crisis, payload__level=2)
    assert {n.desk for n in level2} == {
        region.desk_a,
        region.desk_b,
        region.desk_c,
        region.centre,
    }
    assert all(n.roles == ["supervisor", "coordinator"] for n in level2)
    assert kinds(crisis) == ["level_entered", "level_expired", "level_entered"]
    assert pending_deadline(crisis).payload == {
        "crisis_id": crisis.pk,
        "phase": "level",
        "level": 2,
        "round": 0,
    }
    # A level-2 desk may now acknowledge; so may the level-1 desk that was told first.
    ack(region, crisis, user=region.supervisor_b, desk=region.desk_b)
    crisis.refresh_from_db()
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED


def test_top_level_repeats_then_unanswered(region):
    version = make_escalation_protocol(levels=(AFFECTED,), repeat_last_level=True, max_repeats=2)
    crisis = make_crisis(region, version)
    for round_ in (1, 2):
        expire(crisis)
        assert crisis.level_repeats == round_
        assert crisis.escalation_state == EscalationState.ESCALATING
    expire(crisis)
    assert crisis.escalation_state == EscalationState.UNANSWERED
    assert pending_deadline(crisis) is None
    assert kinds(crisis) == [
        "level_entered",
        "level_expired",
        "level_entered",
        "level_expired",
        "level_entered",
        "level_expired",
        "unanswered",
    ]
    assert Notification.objects.filter(crisis=crisis, kind="escalation.level").count() == 3
    assert Notification.objects.filter(crisis=crisis, kind="escalation.unanswered").count() == 1
    # Someone finally answers.
    ack(region, crisis)
    crisis.refresh_from_db()
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED


def test_without_repeats_the_top_level_goes_unanswered_at_once(region):
    crisis = make_crisis(region, make_escalation_protocol(levels=(AFFECTED,)))
    expire(crisis)
    assert crisis.escalation_state == EscalationState.UNANSWERED
    assert kinds(crisis)[-1] == "unanswered"


def test_ack_timeout_re_arms_the_level_unless_progress_is_reported(region):
    crisis = make_crisis(region, make_escalation_protocol(ack_timeout_seconds=300))
    ack(region, crisis)
    crisis.refresh_from_db()
    timer = pending_deadline(crisis)
    assert timer.payload["phase"] == "ack_timeout" and crisis.level_deadline_at == timer.due_at

    before = timer.due_at
    report_progress(by=region.operator_a, crisis=crisis, desk=region.desk_a, note="on it")
    rearmed = pending_deadline(crisis)
    assert rearmed.pk == timer.pk and rearmed.token != timer.token and rearmed.due_at > before
    assert fire_deadline(timer.pk, timer.token) is False  # the old timer's task is stale

    expire(crisis)  # no progress within the ack timeout
    assert crisis.escalation_state == EscalationState.ESCALATING
    assert crisis.current_level == 1 and crisis.level_repeats == 1
    assert kinds(crisis)[-3:] == ["progress_reported", "ack_timed_out", "level_entered"]
    assert TimelineEntry.objects.filter(crisis=crisis).last().payload["reason"] == ("ack_timed_out")
    # The desk acknowledges the new round.
    ack(region, crisis)
    crisis.refresh_from_db()
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED


def test_progress_needs_an_acknowledgement_by_that_desk(region):
    crisis = make_crisis(region, make_escalation_protocol(ack_timeout_seconds=300))
    with pytest.raises(TransitionNotAllowed):
        report_progress(by=region.operator_a, crisis=crisis, desk=region.desk_a)
    expire(crisis)
    ack(region, crisis)
    with pytest.raises(PermissionDenied) as exc:
        report_progress(by=region.supervisor_b, crisis=crisis, desk=region.desk_b)
    assert exc.value.code == "not_acknowledged"


def test_a_supervisor_stops_the_escalation_with_a_reason(region):
    crisis = make_crisis(region, make_escalation_protocol())
    before = kinds(crisis)
    with pytest.raises(PermissionDenied):
        stop_escalation(by=region.operator_a, crisis=crisis, desk=region.desk_a, reason="x")
    with pytest.raises(InvalidInput) as exc:
        stop_escalation(by=region.supervisor_a, crisis=crisis, desk=region.desk_a, reason=" ")
    assert exc.value.code == "reason_required"
    assert kinds(crisis) == before and pending_deadline(crisis) is not None

    stop_escalation(
        by=region.supervisor_a,
        crisis=crisis,
        desk=region.desk_a,
        reason="False alarm: drill",
    )
    crisis.refresh_from_db()
    assert crisis.escalation_state == EscalationState.STOPPED and pending_deadline(crisis) is None
    entry = crisis.timeline.order_by("seq").last()
    assert entry.kind == "escalation_stopped" and entry.payload["reason"] == "False alarm: drill"
    assert entry.actor == region.supervisor_a
    with pytest.raises(TransitionNotAllowed):
        stop_escalation(by=region.supervisor_a, crisis=crisis, desk=region.desk_a, reason="x")
    with pytest.raises(TransitionNotAllowed):
        ack(region, crisis)


def test_only_parties_acknowledge(region):
    crisis = make_crisis(region, make_escalation_protocol())
    # State B is not involved: the crisis is hidden from it, and it is not on desk A.
    with pytest.raises(NotFound):
        ack(region, crisis, user=region.operator_b, desk=region.desk_b)
    with pytest.raises(NotFound):
        ack(region, crisis, user=region.operator_b, desk=region.desk_a)
    with pytest.raises(PermissionDenied):
        ack(region, crisis, user=region.auditor, desk=region.centre)
    assert kinds(crisis) == ["level_entered"]
    # Once level 2 tells state B, B's desk takes part and may acknowledge.
    expire(crisis)
    ack(region, crisis, user=region.operator_b, desk=region.desk_b)
    crisis.refresh_from_db()
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED


def test_a_running_escalation_is_a_snapshot(region):
    version = make_escalation_protocol()
    crisis = make_crisis(region, version)
    # Someone edits the ladder under it in the database, bypassing the services' rules and
    # (as a database superuser could) the triggers that freeze published versions.
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        EscalationLevel.objects.filter(version=version, order=2).update(timeout_seconds=5)
        EscalationLevel.objects.filter(version=version, order=1).update(notify_scopes=["regional"])
        cursor.execute("SET session_replication_role = DEFAULT")
    assert EscalationLevel.objects.get(version=version, order=2).timeout_seconds == 5
    expire(crisis)
    assert crisis.level_deadline_at - crisis.level_entered_at == timedelta(seconds=900)
    assert pending_deadline(crisis).due_at == crisis.level_deadline_at


def test_escalation_timeline_chain_stays_valid(region):
    crisis = make_crisis(region, make_escalation_protocol(ack_timeout_seconds=60))
    expire(crisis)
    ack(region, crisis)
    expire(crisis)
    assert timeline.verify_all() == []


# --- regressions: failure classes reported against Celery-based on-call tools --------------


def test_notifications_stop_after_an_ack(region):
    """Grafana OnCall #4654, #4760: notifications kept coming after an acknowledgement."""
    crisis = make_crisis(
        region, make_escalation_protocol(levels=(AFFECTED,), repeat_last_level=True)
    )
    stale = pending_deadline(crisis)
    ack(region, crisis)
    counts = (Notification.objects.count(), TimelineEntry.objects.count())
    # Every way a late timer could still arrive: its own task, a redelivery, the sweep.
    Deadline.objects.filter(pk=stale.pk).update(due_at=timezone.now() - timedelta(hours=1))
    for _ in range(2):
        fire_deadline(stale.pk, stale.token)
        fire_deadline(stale.pk)
        fire_due_deadlines()
        sweep(now=timezone.now() + timedelta(days=1))
    assert (Notification.objects.count(), TimelineEntry.objects.count()) == counts


def test_an_acknowledged_crisis_does_not_escalate_much_later(region):
    """Grafana OnCall #3111: an acknowledged alert group escalated months later."""
    crisis = make_crisis(region, make_escalation_protocol())
    ack(region, crisis)
    # Even a deadline left pending by some bug (here: re-created by hand) must not act.
    Deadline.objects.create(
        kind="crisis.escalation",
        subject_key=f"crisis:{crisis.pk}:escalation",
        due_at=timezone.now() - timedelta(days=90),
        payload={"crisis_id": crisis.pk, "phase": "level", "level": 1, "round": 0},
    )
    assert fire_due_deadlines() == 1  # fired, and did nothing
    crisis.refresh_from_db()
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED and crisis.current_level == 1
    assert kinds(crisis) == ["level_entered", "acknowledged"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(6))
def test_ack_racing_the_expiry_has_exactly_one_outcome(region, round_):
    """Grafana OnCall #3161: an acknowledgement racing the level's expiry. Two database
    connections; whichever wins, the level ends exactly one way and nothing deadlocks."""
    crisis = make_crisis(region, make_escalation_protocol())
    deadline = pending_deadline(crisis)
    Deadline.objects.filter(pk=deadline.pk).update(due_at=timezone.now())

    def acknowledge():
        ack(region, crisis)

    def expire_level():
        fire_deadline(deadline.pk, deadline.token)

    errors = (
        run_together(acknowledge, expire_level)
        if round_ % 2
        else run_together(expire_level, acknowledge)
    )
    assert not errors, errors
    # A busy expiry backed off and stays pending: the sweep decides it later.
    sweep(now=timezone.now() + timedelta(seconds=30))
    crisis.refresh_from_db()
    entries = kinds(crisis)
    acked_at_1 = crisis.timeline.filter(kind="acknowledged", payload__level=1).count()
    expired_1 = crisis.timeline.filter(kind="level_expired", payload__level=1).count()
    assert acked_at_1 + expired_1 == 1, entries
    assert entries.count("acknowledged") == 1
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED
    if expired_1:
        assert entries == ["level_entered", "level_expired", "level_entered", "acknowledged"]
    else:
        assert entries == ["level_entered", "acknowledged"]
    assert Crisis.objects.get(pk=crisis.pk).current_level == (2 if expired_1 else 1)


def test_an_acknowledged_desk_is_reminded_half_way_through_the_ack_timeout(region):
    crisis = make_crisis(region, make_escalation_protocol(ack_timeout_seconds=600))
    ack(region, crisis)
    reminder = Deadline.objects.get(kind="crisis.escalation.reminder", state="pending")
    crisis.refresh_from_db()
    assert abs((crisis.level_deadline_at - reminder.due_at).total_seconds() - 300) < 5
    Deadline.objects.filter(pk=reminder.pk).update(due_at=timezone.now())
    assert fire_due_deadlines() == 1
    note = Notification.objects.get(kind="escalation.reminder")
    assert note.desk == region.desk_a and note.crisis == crisis
    assert kinds(crisis)[-1] == "reminder_sent"
    crisis.refresh_from_db()
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED
    # Stopping leaves nothing armed of either kind.
    report_progress(by=region.operator_a, crisis=crisis, desk=region.desk_a)
    assert Deadline.objects.filter(state="pending").count() == 2
    stop_escalation(by=region.supervisor_a, crisis=crisis, desk=region.desk_a, reason="done")
    assert not Deadline.objects.filter(state="pending").exists()


def test_strangers_cannot_act_on_a_crisis(region):
    crisis = make_crisis(region, make_escalation_protocol())
    # State C's desk is not told, not a party: the crisis is hidden from it (404).
    with pytest.raises(NotFound):
        ack(region, crisis, user=region.operator_c, desk=region.desk_c)
    # State B's supervisor can see it only once B is involved; the centre always can.
    with pytest.raises(NotFound):
        stop_escalation(by=region.supervisor_b, crisis=crisis, desk=region.desk_b, reason="x")
    expire(crisis)  # level 2 tells every state: B now takes part
    stop_escalation(by=region.coordinator, crisis=crisis, desk=region.centre, reason="drill")
    crisis.refresh_from_db()
    assert crisis.escalation_state == EscalationState.STOPPED


def test_a_resolved_crisis_never_escalates(region):
    from crisis.models import CrisisStatus

    crisis = make_crisis(region, make_escalation_protocol())
    Crisis.objects.filter(pk=crisis.pk).update(status=CrisisStatus.RESOLVED)
    expire(crisis)
    assert crisis.current_level == 1 and kinds(crisis) == ["level_entered"]


def test_stop_and_progress_over_the_api(region, api_client):
    crisis = make_crisis(region, make_escalation_protocol(ack_timeout_seconds=300))
    base = f"/api/v1/crises/{crisis.pk}"
    api_client.force_authenticate(region.operator_a)
    assert api_client.post(base + "/progress/", {}, format="json").status_code == 409
    assert api_client.post(base + "/acknowledge/", {}, format="json").status_code == 200
    response = api_client.post(base + "/progress/", {"note": "Boats out"}, format="json")
    assert response.status_code == 200
    assert kinds(crisis)[-1] == "progress_reported"
    refused = api_client.post(base + "/stop-escalation/", {"reason": "x"}, format="json")
    assert refused.status_code == 403

    api_client.force_authenticate(region.supervisor_a)
    blank = api_client.post(base + "/stop-escalation/", {"reason": ""}, format="json")
    assert blank.status_code == 400 and blank.json()["code"] == "invalid"
    assert kinds(crisis)[-1] == "progress_reported"
    response = api_client.post(base + "/stop-escalation/", {"reason": "Drill"}, format="json")
    assert response.status_code == 200 and response.json()["escalation_state"] == "stopped"
    assert not Deadline.objects.filter(state="pending").exists()

    api_client.force_authenticate(region.supervisor_b)
    hidden = api_client.post(base + "/stop-escalation/", {"reason": "x"}, format="json")
    assert hidden.status_code == 404
