"""Reads the console's crisis pages need, built on the scoped selectors (never on
``Model.objects`` directly for anything the caller might not be allowed to see)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from core.errors import NotFound

# OPEN_STATUSES is also read from here by the humanitarian console (its home is lifecycle).
from crisis.lifecycle import (
    OPEN_STATUSES,
    WAITING_WORDS,
    may,
    parties_of,
    transitions_from,
)
from crisis.models import (
    Crisis,
    CrisisTask,
    EscalationAck,
    EscalationState,
    TimelineEntry,
)
from crisis.selectors import crises_visible_to
from crisis.snapshot import LevelSnapshot, ProtocolSnapshot
from directory.access import Access
from directory.models import Desk


def open_crises_for(access: Access, desk: Desk | None) -> QuerySet[Crisis]:
    """Open crises the caller may see, most severe first, with whether ``desk`` has
    acknowledged the current level (``desk_acknowledged``)."""
    crises = crises_visible_to(access).filter(status__in=OPEN_STATUSES)
    if desk is not None:
        crises = crises.annotate(
            desk_acknowledged=Exists(
                EscalationAck.objects.filter(
                    crisis=OuterRef("pk"),
                    level=OuterRef("current_level"),
                    round=OuterRef("level_repeats"),
                    desk=desk,
                )
            )
        )
    return crises.order_by("-severity", "-reported_at")


def crisis_for(access: Access, pk: int) -> Crisis:
    """One crisis the caller may see; hidden looks like missing."""
    crisis = (
        crises_visible_to(access)
        .prefetch_related("affected_states", "participants__desk__state")
        .filter(pk=pk)
        .first()
    )
    if crisis is None:
        raise NotFound(_("No such crisis, or it is not shared with your desk."))
    return crisis


@dataclass(frozen=True)
class LadderStep:
    """A level of the bound ladder and where the crisis stands on it."""

    level: LevelSnapshot
    state: str  # done, current, waiting


def ladder_for(crisis: Crisis) -> list[LadderStep]:
    """The bound ladder (the snapshot taken at activation) with where the crisis stands."""
    current = crisis.current_level or 0
    finished = crisis.escalation_state in (EscalationState.ACKNOWLEDGED, EscalationState.FINISHED)
    out = []
    for level in ProtocolSnapshot.of(crisis).levels:
        if level.order < current or (level.order == current and finished):
            state = "done"
        elif level.order == current:
            state = "current"
        else:
            state = "waiting"
        out.append(LadderStep(level=level, state=state))
    return out


def awaits_acknowledgement(crisis: Crisis, desk: Desk | None) -> bool:
    """Whether the crisis waits at a level that ``desk`` has not acknowledged yet."""
    if desk is None or crisis.escalation_state != EscalationState.ESCALATING:
        return False
    acknowledged = getattr(crisis, "desk_acknowledged", None)
    if acknowledged is None:
        acknowledged = has_acknowledged(crisis, desk)
    return not acknowledged


def open_tasks_for(access: Access, desk: Desk | None, *, crisis: Crisis | None = None):
    """``desk``'s checklist tasks not done yet, on crises the caller may see, by due time."""
    if desk is None:
        return CrisisTask.objects.none()
    tasks = CrisisTask.objects.filter(
        desk=desk,
        done_at__isnull=True,
        crisis__in=crises_visible_to(access).filter(status__in=OPEN_STATUSES),
    )
    if crisis is not None:
        tasks = tasks.filter(crisis=crisis)
    return tasks.select_related("crisis", "assignee").order_by("due_at", "item_order")


def tasks_of(crisis: Crisis, desk: Desk | None):
    """The checklist of ``desk`` on a crisis the caller was already allowed to see."""
    if desk is None:
        return CrisisTask.objects.none()
    return (
        CrisisTask.objects.filter(crisis=crisis, desk=desk)
        .select_related("assignee", "desk")
        .order_by("item_order")
    )


def task_for(access: Access, pk: int) -> CrisisTask:
    task = (
        CrisisTask.objects.filter(pk=pk, crisis__in=crises_visible_to(access))
        .select_related("crisis", "desk")
        .first()
    )
    if task is None:
        raise NotFound(_("No such task."))
    return task


def next_steps(access: Access, desk: Desk | None, crisis: Crisis) -> tuple[list[dict], list[str]]:
    """The lifecycle transitions out of the crisis's status that the caller may take now
    for ``desk`` (the rule ``transition_crisis`` checks), and, for the main steps they may
    not take, who the crisis waits for, in words."""
    if desk is None or not access.can_act_for(desk):
        return [], []
    parties = parties_of(desk, crisis)
    steps, waits = [], []
    for t in transitions_from(crisis.status):
        if parties and may(access, desk, parties, t.allowed):
            steps.append(
                {
                    "verb": t.verb,
                    "label": t.label,
                    "target": t.target,
                    "needs_reason": t.needs_reason,
                }
            )
        elif t.verb in WAITING_WORDS:
            waits.append(str(WAITING_WORDS[t.verb]))
    return steps, waits


def timeline_of(crisis: Crisis, *, limit: int = 100):
    """The latest timeline entries of a crisis the caller was allowed to see, newest first."""
    return (
        TimelineEntry.objects.filter(crisis=crisis)
        .select_related("actor", "desk")
        .order_by("-seq")[:limit]
    )


def acknowledgements_of(crisis: Crisis):
    return crisis.acknowledgements.select_related("desk").order_by("acknowledged_at")


def has_acknowledged(crisis: Crisis, desk: Desk | None) -> bool:
    """Whether ``desk`` acknowledged the crisis's current level in the current round."""
    return (
        desk is not None
        and crisis.acknowledgements.filter(
            level=crisis.current_level or 0, round=crisis.level_repeats, desk=desk
        ).exists()
    )
