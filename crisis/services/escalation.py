"""Escalation of a crisis along its protocol's ladder.

Contract used by the crisis lifecycle (``start_escalation`` on activation,
``finish_escalation`` on resolution) and by the acknowledge API. This first version only
moves the state the console and API show; the deadline engine (timers that fire
exactly once) takes over these functions' bodies.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from crisis.models import Crisis, Desk, EscalationAck, EscalationState
from crisis.services import timeline


def _level(crisis: Crisis, order: int) -> dict | None:
    for level in crisis.protocol_snapshot.get("levels", []):
        if level["order"] == order:
            return level
    return None


def start_escalation(*, crisis: Crisis, by=None) -> None:
    """Enter level 1 of the crisis's bound ladder. Called holding the crisis row lock."""
    first = _level(crisis, 1)
    if first is None:
        return
    now = timezone.now()
    crisis.current_level = 1
    crisis.level_entered_at = now
    crisis.level_deadline_at = now + timedelta(seconds=first["timeout_seconds"])
    crisis.escalation_state = EscalationState.ESCALATING
    crisis.save(
        update_fields=[
            "current_level",
            "level_entered_at",
            "level_deadline_at",
            "escalation_state",
            "updated_at",
        ]
    )
    timeline.record(
        crisis=crisis,
        kind="level_entered",
        actor=by,
        payload={"level": 1, "name": first["name"], "deadline_at": crisis.level_deadline_at},
    )


def acknowledge_level(*, crisis: Crisis, desk: Desk, by) -> EscalationAck:
    """Record ``desk``'s acknowledgement of the current level. Called holding the row lock."""
    ack, _ = EscalationAck.objects.get_or_create(
        crisis=crisis,
        level=crisis.current_level or 0,
        round=crisis.level_repeats,
        desk=desk,
        defaults={"acknowledged_by": by},
    )
    crisis.escalation_state = EscalationState.ACKNOWLEDGED
    crisis.level_deadline_at = None
    crisis.save(update_fields=["escalation_state", "level_deadline_at", "updated_at"])
    timeline.record(
        crisis=crisis, kind="acknowledged", actor=by, desk=desk, payload={"level": ack.level}
    )
    return ack


def finish_escalation(*, crisis: Crisis, by=None) -> None:
    """The crisis is resolved: no level waits any more. Called holding the row lock."""
    crisis.escalation_state = EscalationState.FINISHED
    crisis.level_deadline_at = None
    crisis.save(update_fields=["escalation_state", "level_deadline_at", "updated_at"])
