"""A protocol level with the ``open_crisis_room`` action opens the crisis's room here."""

from __future__ import annotations

from crisis.models import Crisis, LevelAction
from crisis.services.level_actions import register_level_action
from directory.models import Desk
from hotline.models import ChannelKind, ChannelStatus, HotlineChannel
from hotline.services.channels import open_crisis_room


def crisis_room_desk_ids(crisis: Crisis) -> list[int]:
    """The lead desk, every participating desk and every desk of an affected state."""
    desk_ids = [crisis.lead_desk_id]
    desk_ids += list(crisis.participants.values_list("desk_id", flat=True))
    desk_ids += list(
        Desk.objects.filter(is_active=True, state__in=crisis.affected_states.all()).values_list(
            "pk", flat=True
        )
    )
    return list(dict.fromkeys(desk_ids))


@register_level_action(LevelAction.OPEN_CRISIS_ROOM)
def open_room_for_crisis(*, crisis: Crisis, level: dict) -> HotlineChannel:
    """Idempotent: a crisis has at most one open room (a repeat or re-escalation reuses it).

    Runs in the transaction entering the level, holding the crisis row lock, so two
    levels entered at once cannot both open one.
    """
    existing = (
        HotlineChannel.objects.filter(kind=ChannelKind.CRISIS_ROOM, crisis_ref=crisis.reference)
        .exclude(status=ChannelStatus.ARCHIVED)
        .first()
    )
    if existing is not None:
        return existing
    return open_crisis_room(
        by=None,
        name=(
            f"{'EXERCISE ' if crisis.exercise else ''}"
            f"{crisis.reference} crisis room — {crisis.title}"
        )[:200],
        desk_ids=crisis_room_desk_ids(crisis),
        crisis_ref=crisis.reference,
    )
