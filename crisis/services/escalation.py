"""Escalation of a crisis along its protocol's ladder, on the deadline engine.

The ladder is the crisis's ``protocol_snapshot`` (copied at activation from a published,
immutable version: editing the protocol never changes a running escalation). Each crisis
has at most one pending deadline of kind ``crisis.escalation`` (subject
``crisis:<id>:escalation``); its payload says which level, round and phase it guards.

- Entering a level notifies its recipient desks (a :class:`Notification` row each, and a
  push to each desk's channel-layer group after commit; a desk told joins the crisis as
  an observer, so it sees it), arms the level's deadline, and records ``level_entered``.
- An acknowledgement by a recipient desk cancels the deadline. With an ack timeout in
  the protocol, it arms an ``ack_timeout`` deadline instead: if the desk reports no
  progress within it, the level is entered again (PagerDuty's ack timeout).
- Expiry moves to the next level; at the top, the level repeats (up to the protocol's
  ``max_repeats``, if ``repeat_last_level``) or the crisis is marked ``unanswered``.
- While acknowledged with an ack timeout, the desk is reminded half-way through it.
- A supervisor can stop the escalation with a reason.

Lock order is crisis row, then deadline row, then the timeline stream, for every action.
The expiry handler runs holding the deadline row; it takes the crisis row with NOWAIT and,
if an action holds it, backs off (the deadline stays pending and is fired a moment
later), so an acknowledgement racing the expiry never deadlocks: exactly one of them wins.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from crisis.errors import InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from crisis.events import desk_group, publish_on_commit
from crisis.models import (
    Crisis,
    CrisisParticipant,
    CrisisStatus,
    Deadline,
    Desk,
    DeskKind,
    EscalationAck,
    EscalationState,
    Notification,
    ParticipantRole,
    ProtocolVersion,
    Role,
)
from crisis.services import timeline
from crisis.services.deadlines import (
    DeadlineBusy,
    cancel_deadlines,
    register_handler,
    schedule_deadline,
)

DEADLINE_KIND = "crisis.escalation"
#: While acknowledged with an ack timeout, the desk is reminded half-way through it.
REMINDER_KIND = "crisis.escalation.reminder"

#: Roles that may stop an escalation.
STOPPING_ROLES = frozenset({Role.SUPERVISOR, Role.COORDINATOR})

#: Escalation states in which an acknowledgement is accepted.
ACKABLE = {EscalationState.ESCALATING, EscalationState.ACKNOWLEDGED, EscalationState.UNANSWERED}


def deadline_subject(crisis: Crisis | int) -> str:
    crisis_id = crisis if isinstance(crisis, int) else crisis.pk
    return f"crisis:{crisis_id}:escalation"


# --- the snapshot -----------------------------------------------------------------------


def snapshot_of(version: ProtocolVersion) -> dict:
    """The ladder of ``version`` as plain data, to store on the crisis at activation."""
    levels = []
    for level in version.levels.order_by("order").prefetch_related("notify_desks"):
        levels.append(
            {
                "order": level.order,
                "name": level.name,
                "timeout_seconds": level.timeout_seconds,
                "notify_scopes": list(level.notify_scopes or []),
                "notify_roles": list(level.notify_roles or []),
                "notify_desks": sorted(d.pk for d in level.notify_desks.all()),
                "actions": list(level.actions or []),
            }
        )
    return {
        "protocol": version.protocol.name,
        "version": version.number,
        "repeat_last_level": version.repeat_last_level,
        "max_repeats": version.max_repeats,
        "ack_timeout_seconds": version.ack_timeout_seconds,
        "levels": levels,
    }


def _level(crisis: Crisis, order: int) -> dict | None:
    for level in crisis.protocol_snapshot.get("levels", []):
        if level["order"] == order:
            return level
    return None


def recipient_desks(crisis: Crisis, level: dict) -> list[Desk]:
    """The active desks a level notifies: its scopes resolved for this crisis, plus the
    desks it names."""
    scopes = set(level.get("notify_scopes") or [])
    named = set(level.get("notify_desks") or [])
    if not scopes and not named:
        return []
    query = Q(pk__in=named)
    if "affected" in scopes:
        query |= Q(kind=DeskKind.NATIONAL, state__crises=crisis)
    if "participants" in scopes:
        query |= Q(participations__crisis=crisis)
    if "all_states" in scopes:
        query |= Q(kind=DeskKind.NATIONAL)
    if "regional" in scopes:
        query |= Q(kind=DeskKind.REGIONAL)
    return list(Desk.objects.filter(query, is_active=True).distinct().order_by("code"))


def required_desk_ids(crisis: Crisis) -> set[int]:
    """Desks whose acknowledgement counts: every desk notified by this escalation so far."""
    return set(
        Notification.objects.filter(crisis=crisis, kind="escalation.level").values_list(
            "desk_id", flat=True
        )
    )


# --- entering a level ---------------------------------------------------------------------


def _event(crisis: Crisis, kind: str, **extra) -> dict:
    return {
        "type": kind,
        "crisis": {"id": crisis.pk, "reference": crisis.reference, "title": crisis.title},
        **extra,
    }


def _enter_level(crisis: Crisis, order: int, *, round_: int, by=None, reason: str) -> None:
    """Enter level ``order`` (attempt ``round_``): notify, arm, record. Holds the crisis lock."""
    level = _level(crisis, order)
    now = timezone.now()
    deadline_at = now + timedelta(seconds=level["timeout_seconds"])
    crisis.current_level = order
    crisis.level_repeats = round_
    crisis.level_entered_at = now
    crisis.level_deadline_at = deadline_at
    crisis.escalation_state = EscalationState.ESCALATING
    crisis.save(
        update_fields=[
            "current_level",
            "level_repeats",
            "level_entered_at",
            "level_deadline_at",
            "escalation_state",
            "updated_at",
        ]
    )
    if reason == "ack_timed_out":  # the only way in while a reminder may be armed
        cancel_deadlines(kind=REMINDER_KIND, subject_key=deadline_subject(crisis))
    desks = recipient_desks(crisis, level)
    title = f"{crisis.reference}: escalation level {order} ({level['name']}) — please acknowledge"
    payload = {
        "level": order,
        "name": level["name"],
        "round": round_,
        "deadline_at": deadline_at.isoformat(),
        "actions": level.get("actions") or [],
    }
    # A desk that is told takes part (as an observer unless it already has a role), so
    # it sees the crisis and can acknowledge it.
    CrisisParticipant.objects.bulk_create(
        [CrisisParticipant(crisis=crisis, desk=d, role=ParticipantRole.OBSERVER) for d in desks],
        ignore_conflicts=True,
    )
    Notification.objects.bulk_create(
        [
            Notification(
                desk=desk,
                crisis=crisis,
                kind="escalation.level",
                title=title,
                payload=payload,
                roles=level.get("notify_roles") or [],
            )
            for desk in desks
        ]
    )
    schedule_deadline(
        kind=DEADLINE_KIND,
        subject_key=deadline_subject(crisis),
        due_at=deadline_at,
        payload={"crisis_id": crisis.pk, "phase": "level", "level": order, "round": round_},
    )
    timeline.record(
        crisis=crisis,
        kind="level_entered",
        actor=by,
        payload={**payload, "reason": reason, "desks": [d.code for d in desks]},
    )
    if desks:
        publish_on_commit(
            [desk_group(d.pk) for d in desks], _event(crisis, "escalation.level", **payload)
        )


def start_escalation(*, crisis: Crisis, by=None) -> None:
    """Enter level 1 of the crisis's bound ladder. Called holding the crisis row lock.

    Needs ``crisis.protocol_snapshot`` (see :func:`snapshot_of`); a ladder without levels
    leaves the escalation not started.
    """
    if _level(crisis, 1) is None:
        return
    _enter_level(crisis, 1, round_=0, by=by, reason="activated")


# --- the timer ---------------------------------------------------------------------------------


def _lock_crisis_nowait(crisis_id: int) -> Crisis | None:
    """Take the crisis row lock without waiting (we already hold a deadline row lock).

    No savepoint: if the lock is refused the whole firing rolls back anyway.
    """
    crises = Crisis.objects.filter(pk=crisis_id)
    if connection.features.has_select_for_update_nowait:
        try:
            return crises.select_for_update(nowait=True).first()
        except DatabaseError as exc:
            raise DeadlineBusy(f"crisis {crisis_id} is locked by another action") from exc
    return crises.first()


@register_handler(DEADLINE_KIND)
def on_escalation_deadline(deadline: Deadline) -> None:
    """A level's timeout (or an acknowledgement's) passed. Runs in the firing transaction."""
    data = deadline.payload
    crisis = _lock_crisis_nowait(data["crisis_id"])
    if crisis is None or crisis.status in (CrisisStatus.RESOLVED, CrisisStatus.CLOSED):
        return
    phase, order, round_ = data.get("phase"), data.get("level"), data.get("round", 0)
    if crisis.current_level != order or crisis.level_repeats != round_:
        return  # moved on since (defensive: cancellation normally prevents this)
    if phase == "level" and crisis.escalation_state == EscalationState.ESCALATING:
        _expire_level(crisis, order, round_)
    elif phase == "ack_timeout" and crisis.escalation_state == EscalationState.ACKNOWLEDGED:
        timeline.record(
            crisis=crisis,
            kind="ack_timed_out",
            payload={"level": order, "round": round_, "desk": data.get("desk")},
        )
        _enter_level(crisis, order, round_=round_ + 1, reason="ack_timed_out")


@register_handler(REMINDER_KIND)
def on_reminder_deadline(deadline: Deadline) -> None:
    """Half-way through an ack timeout: remind the acknowledging desk to report progress."""
    data = deadline.payload
    crisis = _lock_crisis_nowait(data["crisis_id"])
    if (
        crisis is None
        or crisis.escalation_state != EscalationState.ACKNOWLEDGED
        or crisis.current_level != data.get("level")
        or crisis.level_repeats != data.get("round")
    ):
        return
    payload = {
        "level": data["level"],
        "round": data["round"],
        "progress_due_at": data["progress_due_at"],
    }
    Notification.objects.create(
        desk_id=data["desk_id"],
        crisis=crisis,
        kind="escalation.reminder",
        title=(f"{crisis.reference}: report progress, or level {data['level']} is notified again"),
        payload=payload,
    )
    timeline.record(crisis=crisis, kind="reminder_sent", payload=payload)
    publish_on_commit(desk_group(data["desk_id"]), _event(crisis, "escalation.reminder", **payload))


def _expire_level(crisis: Crisis, order: int, round_: int) -> None:
    timeline.record(crisis=crisis, kind="level_expired", payload={"level": order, "round": round_})
    snapshot = crisis.protocol_snapshot
    if _level(crisis, order + 1) is not None:
        _enter_level(crisis, order + 1, round_=0, reason="level_expired")
    elif snapshot.get("repeat_last_level") and round_ < int(snapshot.get("max_repeats") or 0):
        _enter_level(crisis, order, round_=round_ + 1, reason="repeated")
    else:
        _mark_unanswered(crisis, order, round_)


def _mark_unanswered(crisis: Crisis, order: int, round_: int) -> None:
    crisis.escalation_state = EscalationState.UNANSWERED
    crisis.level_deadline_at = None
    crisis.save(update_fields=["escalation_state", "level_deadline_at", "updated_at"])
    desk_ids = sorted(required_desk_ids(crisis) | {crisis.lead_desk_id})
    payload = {"level": order, "round": round_}
    Notification.objects.bulk_create(
        [
            Notification(
                desk_id=desk_id,
                crisis=crisis,
                kind="escalation.unanswered",
                title=f"{crisis.reference}: nobody acknowledged the top escalation level",
                payload=payload,
            )
            for desk_id in desk_ids
        ]
    )
    timeline.record(crisis=crisis, kind="unanswered", payload=payload)
    publish_on_commit(
        [desk_group(d) for d in desk_ids], _event(crisis, "escalation.unanswered", **payload)
    )


# --- actions by people ---------------------------------------------------------------------------


def _locked_crisis(access, crisis: Crisis | int) -> Crisis:
    """Lock the crisis row, if the caller may know the crisis exists (else 404)."""
    from crisis.selectors import crises_visible_to

    crisis_id = crisis if isinstance(crisis, int) else crisis.pk
    if not crises_visible_to(access).filter(pk=crisis_id).exists():
        raise NotFound("No such crisis.")
    found = Crisis.objects.select_for_update().filter(pk=crisis_id).first()
    if found is None:
        raise NotFound("No such crisis.")
    return found


def acknowledge_level(*, crisis: Crisis, desk: Desk, by) -> EscalationAck:
    """Record ``desk``'s acknowledgement. Called holding the crisis row lock, after checks
    (see :func:`acknowledge_escalation`).

    Cancels the level's deadline (or, with an ack timeout in the protocol, re-arms it as
    an ack-timeout deadline). Idempotent per desk, level and round.
    """
    ack, created = EscalationAck.objects.get_or_create(
        crisis=crisis,
        level=crisis.current_level or 0,
        round=crisis.level_repeats,
        desk=desk,
        defaults={"acknowledged_by": by},
    )
    if not created and crisis.escalation_state == EscalationState.ACKNOWLEDGED:
        return ack
    cancel_deadlines(subject_key=deadline_subject(crisis))
    ack_timeout = crisis.protocol_snapshot.get("ack_timeout_seconds")
    crisis.escalation_state = EscalationState.ACKNOWLEDGED
    crisis.level_deadline_at = None
    if ack_timeout:
        crisis.level_deadline_at = timezone.now() + timedelta(seconds=int(ack_timeout))
        _arm_ack_timeout(crisis, desk)
    crisis.save(update_fields=["escalation_state", "level_deadline_at", "updated_at"])
    payload = {"level": ack.level, "round": ack.round}
    if crisis.level_deadline_at:
        payload["progress_due_at"] = crisis.level_deadline_at.isoformat()
    timeline.record(crisis=crisis, kind="acknowledged", actor=by, desk=desk, payload=payload)
    publish_on_commit(
        [desk_group(d) for d in sorted(required_desk_ids(crisis))],
        _event(crisis, "escalation.acknowledged", desk=desk.code, **payload),
    )
    return ack


def _arm_ack_timeout(crisis: Crisis, desk: Desk) -> None:
    """Arm the ack-timeout deadline (and the reminder half-way) for ``desk``'s ack."""
    remaining = (crisis.level_deadline_at - timezone.now()).total_seconds()
    if remaining >= 2:
        schedule_deadline(
            kind=REMINDER_KIND,
            subject_key=deadline_subject(crisis),
            due_at=timezone.now() + timedelta(seconds=remaining / 2),
            payload={
                "crisis_id": crisis.pk,
                "level": crisis.current_level,
                "round": crisis.level_repeats,
                "desk_id": desk.pk,
                "progress_due_at": crisis.level_deadline_at.isoformat(),
            },
        )
    schedule_deadline(
        kind=DEADLINE_KIND,
        subject_key=deadline_subject(crisis),
        due_at=crisis.level_deadline_at,
        payload={
            "crisis_id": crisis.pk,
            "phase": "ack_timeout",
            "level": crisis.current_level,
            "round": crisis.level_repeats,
            "desk": desk.code,
        },
    )


def _check_desk(access, desk: Desk, roles=None) -> None:
    if roles is None:
        access.require_act_for(desk)
    else:
        access.require_act_for(desk, roles=roles)


def acknowledge_escalation(*, access, crisis: Crisis | int, desk: Desk) -> EscalationAck:
    """A person acknowledges the crisis's escalation for ``desk``.

    Permission: a writing role on ``desk`` (404 if not on it). State: the escalation is
    waiting, acknowledged (idempotent) or unanswered; ``desk`` must be one it notified.
    One transaction; racing the level's expiry, exactly one of the two takes effect.
    """
    _check_desk(access, desk)
    with transaction.atomic():
        crisis = _locked_crisis(access, crisis)
        if crisis.escalation_state not in ACKABLE:
            raise TransitionNotAllowed(
                f"There is no escalation to acknowledge (it is {crisis.escalation_state}).",
                details={"escalation_state": crisis.escalation_state},
            )
        if desk.pk not in required_desk_ids(crisis):
            raise PermissionDenied(
                f"{desk.code} was not notified by this escalation, so its acknowledgement "
                "does not count.",
                code="not_a_recipient",
            )
        return acknowledge_level(crisis=crisis, desk=desk, by=access.user)


def report_progress(*, access, crisis: Crisis | int, desk: Desk, note: str = "") -> Crisis:
    """The acknowledging desk reports progress: the ack timeout starts again.

    Only while acknowledged, by a desk that acknowledged this level and round.
    """
    _check_desk(access, desk)
    with transaction.atomic():
        crisis = _locked_crisis(access, crisis)
        if crisis.escalation_state != EscalationState.ACKNOWLEDGED:
            raise TransitionNotAllowed(
                "Progress is reported on an acknowledged escalation.",
                details={"escalation_state": crisis.escalation_state},
            )
        acked = EscalationAck.objects.filter(
            crisis=crisis, level=crisis.current_level, round=crisis.level_repeats, desk=desk
        ).exists()
        if not acked:
            raise PermissionDenied(
                f"{desk.code} has not acknowledged this level.", code="not_acknowledged"
            )
        payload = {"level": crisis.current_level, "note": note[:2000]}
        ack_timeout = crisis.protocol_snapshot.get("ack_timeout_seconds")
        if ack_timeout:
            crisis.level_deadline_at = timezone.now() + timedelta(seconds=int(ack_timeout))
            crisis.save(update_fields=["level_deadline_at", "updated_at"])
            _arm_ack_timeout(crisis, desk)
            payload["progress_due_at"] = crisis.level_deadline_at.isoformat()
        timeline.record(
            crisis=crisis, kind="progress_reported", actor=access.user, desk=desk, payload=payload
        )
        return crisis


def stop_escalation(*, access, crisis: Crisis | int, desk: Desk, reason: str) -> Crisis:
    """A supervisor (or coordinator) stops the escalation, saying why.

    Nobody is notified any more and no deadline stays armed. Refused once it is stopped
    or finished.
    """
    _check_desk(access, desk, roles=STOPPING_ROLES)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the escalation is stopped.", code="reason_required")
    with transaction.atomic():
        crisis = _locked_crisis(access, crisis)
        is_party = (
            desk.is_regional
            or desk.pk == crisis.lead_desk_id
            or desk.pk in required_desk_ids(crisis)
            or CrisisParticipant.objects.filter(crisis=crisis, desk=desk).exists()
        )
        if not is_party:
            raise PermissionDenied(
                f"{desk.code} takes no part in this crisis, so it cannot stop its escalation.",
                code="not_a_party",
            )
        if crisis.escalation_state in (
            EscalationState.NOT_STARTED,
            EscalationState.STOPPED,
            EscalationState.FINISHED,
        ):
            raise TransitionNotAllowed(
                f"The escalation cannot be stopped (it is {crisis.escalation_state}).",
                details={"escalation_state": crisis.escalation_state},
            )
        cancel_deadlines(subject_key=deadline_subject(crisis))
        crisis.escalation_state = EscalationState.STOPPED
        crisis.level_deadline_at = None
        crisis.save(update_fields=["escalation_state", "level_deadline_at", "updated_at"])
        payload = {"level": crisis.current_level, "reason": reason[:2000]}
        timeline.record(
            crisis=crisis, kind="escalation_stopped", actor=access.user, desk=desk, payload=payload
        )
        publish_on_commit(
            [desk_group(d) for d in sorted(required_desk_ids(crisis))],
            _event(crisis, "escalation.stopped", desk=desk.code, **payload),
        )
        return crisis


def finish_escalation(*, crisis: Crisis, by=None) -> None:
    """The crisis is resolved: no level waits any more. Called holding the row lock."""
    cancel_deadlines(subject_key=deadline_subject(crisis))
    crisis.escalation_state = EscalationState.FINISHED
    crisis.level_deadline_at = None
    crisis.save(update_fields=["escalation_state", "level_deadline_at", "updated_at"])
