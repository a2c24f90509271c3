"""A crisis's room: opened by a protocol level with the ``open_crisis_room`` action, or by
a person of one of the crisis's desks (or the coordinator) from the console. A crisis has
at most one room that is not archived."""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from crisis.lifecycle import is_open
from crisis.models import Crisis, CrisisParticipant, LevelAction
from crisis.selectors import crises_visible_to
from crisis.services.level_actions import register_level_action
from directory.access import Access, access_for
from directory.models import Desk
from hotline.models import ChannelKind, ChannelStatus, HotlineChannel
from hotline.services.channels import open_crisis_room


def crisis_room_desk_ids(crisis: Crisis) -> list[int]:
    """The lead desk, every participating desk and every desk of an affected state."""
    return crisis_room_desk_ids_of([crisis])[crisis.pk]


def crisis_room_desk_ids_of(crises: list[Crisis]) -> dict[int, list[int]]:
    """:func:`crisis_room_desk_ids` of each crisis (by id), in two queries for all."""
    ids = [c.pk for c in crises]
    participants: dict[int, list[int]] = defaultdict(list)
    for crisis_id, desk_id in CrisisParticipant.objects.filter(crisis_id__in=ids).values_list(
        "crisis_id", "desk_id"
    ):
        participants[crisis_id].append(desk_id)
    affected: dict[int, list[int]] = defaultdict(list)  # the desks of its affected states
    for crisis_id, desk_id in (
        Desk.objects.filter(is_active=True, state__crises__in=ids)
        .order_by("pk")
        .values_list("state__crises", "pk")
    ):
        affected[crisis_id].append(desk_id)
    return {
        c.pk: list(dict.fromkeys([c.lead_desk_id, *participants[c.pk], *affected[c.pk]]))
        for c in crises
    }


def room_of(crisis: Crisis) -> HotlineChannel | None:
    """The crisis's room that is not archived, if it has one."""
    return (
        HotlineChannel.objects.filter(kind=ChannelKind.CRISIS_ROOM, crisis_ref=crisis.reference)
        .exclude(status=ChannelStatus.ARCHIVED)
        .order_by("pk")
        .first()
    )


def room_name(crisis: Crisis) -> str:
    return (
        f"{'EXERCISE ' if crisis.exercise else ''}{crisis.reference} crisis room — {crisis.title}"
    )[:200]


def open_room_refusal(
    access: Access, crisis: Crisis, desk_ids: list[int], existing: HotlineChannel | None
) -> DomainError | None:
    """Why the caller may not open ``crisis``'s room now (None: they may).

    The coordinator, or a writing member of one of the room's desks
    (:func:`crisis_room_desk_ids`), opens it while the crisis is open and has no room.
    """
    if existing is not None:
        return Conflict(
            "This crisis already has a crisis room.",
            code="room_exists",
            details={"channel": existing.pk},
        )
    if not is_open(crisis):
        return Conflict(
            f"Crisis {crisis.reference} is {crisis.status}: it gets no new crisis room.",
            code="crisis_not_open",
        )
    if not access.is_coordinator and not any(access.can_act_for(d) for d in desk_ids):
        return PermissionDenied(
            "Only a desk of the crisis (an operator or a supervisor) or the regional "
            "coordinator opens its crisis room.",
            code="not_a_party",
        )
    return None


def open_crisis_room_for(*, by, crisis_id: int) -> HotlineChannel:
    """A person opens the room of a crisis they see, with its desks (:func:`crisis_room_desk_ids`).

    One transaction holding the crisis row lock, so two people clicking at once open one
    room (the second gets ``room_exists``). As with :func:`open_crisis_room`, a national
    desk's people put their own state's desks and the regional centre in the room and
    invite the other states' desks; the coordinator puts every desk in at once.
    """
    access = access_for(by)
    with transaction.atomic():
        if not crises_visible_to(access).filter(pk=crisis_id).exists():
            raise NotFound(_("No such crisis."), code="crisis_not_found")
        crisis = Crisis.objects.select_for_update().get(pk=crisis_id)
        desk_ids = crisis_room_desk_ids(crisis)
        refusal = open_room_refusal(access, crisis, desk_ids, room_of(crisis))
        if refusal is not None:
            raise refusal
        return open_crisis_room(
            by=by, name=room_name(crisis), desk_ids=desk_ids, crisis_ref=crisis.reference
        )


@register_level_action(LevelAction.OPEN_CRISIS_ROOM)
def open_room_for_crisis(*, crisis: Crisis, level: dict) -> HotlineChannel:
    """Idempotent: a crisis has at most one open room (a repeat or re-escalation reuses it).

    Runs in the transaction entering the level, holding the crisis row lock, so two
    levels entered at once cannot both open one.
    """
    existing = room_of(crisis)
    if existing is not None:
        return existing
    return open_crisis_room(
        by=None,
        name=room_name(crisis),
        desk_ids=crisis_room_desk_ids(crisis),
        crisis_ref=crisis.reference,
    )
