"""Opening, accepting, changing and archiving lines (``HotlineChannel``)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput, NotFound
from core.events import desk_group
from core.events import publish_on_commit as publish_to_desks
from directory.access import access_for
from directory.models import Desk, DeskKind
from hotline import fanout
from hotline.models import (
    ChannelEventKind,
    ChannelKind,
    ChannelMember,
    ChannelStatus,
    HotlineChannel,
)
from hotline.selectors import member_desk_ids
from hotline.services.common import regional_desk_ids, require_coordinator, trace


def _active_desk(desk_id: int) -> Desk:
    try:
        return Desk.objects.select_related("state").get(pk=desk_id, is_active=True)
    except Desk.DoesNotExist:
        raise InvalidInput(
            f"Desk {desk_id} does not exist or is not active.",
            code="unknown_desk",
            details={"desk": desk_id},
        ) from None


def _open_bilateral_between(a: Desk, b: Desk) -> bool:
    return (
        HotlineChannel.objects.filter(kind=ChannelKind.BILATERAL)
        .exclude(status=ChannelStatus.ARCHIVED)
        .filter(members__desk=a, members__removed_at__isnull=True)
        .filter(members__desk=b, members__removed_at__isnull=True)
        .exists()
    )


def _check_bilateral_pair(a: Desk, b: Desk) -> None:
    if a.kind != DeskKind.NATIONAL or b.kind != DeskKind.NATIONAL:
        raise InvalidInput("A bilateral line joins two national desks.", code="not_national")
    if a.state_id == b.state_id:
        raise InvalidInput(
            "A bilateral line joins desks of two different states.", code="same_state"
        )
    if _open_bilateral_between(a, b):
        raise Conflict("These two desks already have an open bilateral line.", code="line_exists")


def _create(*, kind, name, status, by, desks, proposed_by_desk=None, **extra) -> HotlineChannel:
    channel = HotlineChannel.objects.create(
        kind=kind,
        name=name,
        status=status,
        created_by=by,
        proposed_by_desk=proposed_by_desk,
        **extra,
    )
    ChannelMember.objects.bulk_create(
        [ChannelMember(channel=channel, desk=desk, added_by=by) for desk in desks]
    )
    trace(
        channel,
        ChannelEventKind.PROPOSED if status == ChannelStatus.PROPOSED else ChannelEventKind.CREATED,
        actor=by,
        desk=proposed_by_desk,
        channel_kind=kind,
        desks=sorted(d.pk for d in desks),
    )
    event = {"type": "hotline.channel", "channel": channel.pk, "status": status, "kind": kind}
    publish_to_desks([desk_group(d.pk) for d in desks], event)
    return channel


@transaction.atomic
def propose_bilateral_channel(
    *, by, desk_id: int, peer_desk_id: int, name: str = ""
) -> HotlineChannel:
    """A national desk proposes a bilateral line to a desk of another state.

    The line is ``proposed`` until the peer desk accepts it; nothing can be sent before.
    """
    access = access_for(by)
    access.require_act_for(desk_id)
    desk, peer = _active_desk(desk_id), _active_desk(peer_desk_id)
    _check_bilateral_pair(desk, peer)
    return _create(
        kind=ChannelKind.BILATERAL,
        name=name or f"{desk.code} ⇄ {peer.code}",
        status=ChannelStatus.PROPOSED,
        by=by,
        desks=[desk, peer],
        proposed_by_desk=desk,
    )


@transaction.atomic
def accept_bilateral_channel(*, by, channel_id: int) -> HotlineChannel:
    """The proposed-to desk accepts; the line becomes active. Only that desk may accept."""
    access = access_for(by)
    channel = HotlineChannel.objects.select_for_update().filter(pk=channel_id).first()
    members = member_desk_ids(channel_id) if channel else set()
    if channel is None or not (members & access.desk_ids or access.sees_all_states):
        raise NotFound("No such line.", code="channel_not_found")
    if channel.kind != ChannelKind.BILATERAL or channel.status != ChannelStatus.PROPOSED:
        raise Conflict("Only a proposed bilateral line can be accepted.", code="not_proposed")
    peer_ids = sorted(members - {channel.proposed_by_desk_id})
    if not peer_ids:
        raise Conflict("The proposed-to desk is no longer on this line.", code="not_proposed")
    access.require_act_for(peer_ids[0])
    channel.status = ChannelStatus.ACTIVE
    channel.save(update_fields=["status"])
    trace(channel, ChannelEventKind.ACCEPTED, actor=by, desk=peer_ids[0])
    event = {"type": "hotline.channel", "channel": channel.pk, "status": channel.status}
    publish_to_desks([desk_group(d) for d in sorted(members)], event)
    return channel


@transaction.atomic
def set_up_bilateral_channel(
    *, by, desk_id: int, peer_desk_id: int, name: str = ""
) -> HotlineChannel:
    """The regional coordinator sets up a bilateral line directly (active at once)."""
    require_coordinator(access_for(by))
    desk, peer = _active_desk(desk_id), _active_desk(peer_desk_id)
    _check_bilateral_pair(desk, peer)
    return _create(
        kind=ChannelKind.BILATERAL,
        name=name or f"{desk.code} ⇄ {peer.code}",
        status=ChannelStatus.ACTIVE,
        by=by,
        desks=[desk, peer],
    )


@transaction.atomic
def open_crisis_room(
    *,
    by,
    name: str,
    desk_ids: list[int],
    crisis_ref: str = "",
    ack_deadline_seconds: int | None = None,
) -> HotlineChannel:
    """Open a multilateral crisis room with the affected states' desks and the regional
    centre. ``by=None`` is the system (a crisis protocol opening it automatically);
    otherwise a coordinator, or a writing member of one of the desks."""
    if by is not None:
        access = access_for(by)
        if not access.is_coordinator:
            own = [d for d in desk_ids if access.can_act_for(d)]
            if not own:
                require_coordinator(access)
    desks = [_active_desk(d) for d in dict.fromkeys(desk_ids)]
    desks += [_active_desk(d) for d in regional_desk_ids() if d not in {desk.pk for desk in desks}]
    if len(desks) < 2:
        raise InvalidInput("A crisis room needs at least two desks.", code="too_few_desks")
    extra = {"crisis_ref": crisis_ref}
    if ack_deadline_seconds:
        extra["ack_deadline_seconds"] = ack_deadline_seconds
    return _create(
        kind=ChannelKind.CRISIS_ROOM,
        name=name,
        status=ChannelStatus.ACTIVE,
        by=by,
        desks=desks,
        **extra,
    )


@transaction.atomic
def open_broadcast_channel(*, by, name: str = "Regional broadcast") -> HotlineChannel:
    """The coordinator opens the region-wide broadcast line with every active desk."""
    require_coordinator(access_for(by))
    if HotlineChannel.objects.filter(kind=ChannelKind.BROADCAST).exclude(
        status=ChannelStatus.ARCHIVED
    ):
        raise Conflict("The broadcast line is already open.", code="line_exists")
    return _create(
        kind=ChannelKind.BROADCAST,
        name=name,
        status=ChannelStatus.ACTIVE,
        by=by,
        desks=list(Desk.objects.filter(is_active=True)),
    )


def _locked_open_channel(channel_id: int) -> HotlineChannel:
    channel = HotlineChannel.objects.select_for_update().filter(pk=channel_id).first()
    if channel is None:
        raise NotFound("No such line.", code="channel_not_found")
    if channel.status == ChannelStatus.ARCHIVED:
        raise Conflict("This line is archived: it is read-only.", code="channel_archived")
    return channel


@transaction.atomic
def add_member(*, by, channel_id: int, desk_id: int) -> ChannelMember:
    """The coordinator adds a desk to a crisis room or the broadcast line (traced)."""
    require_coordinator(access_for(by))
    channel = _locked_open_channel(channel_id)
    if channel.kind == ChannelKind.BILATERAL:
        raise Conflict("A bilateral line always has exactly two desks.", code="bilateral_fixed")
    desk = _active_desk(desk_id)
    if desk.pk in member_desk_ids(channel):
        raise Conflict("That desk is already a member.", code="already_member")
    member = ChannelMember.objects.create(channel=channel, desk=desk, added_by=by)
    trace(channel, ChannelEventKind.MEMBER_ADDED, actor=by, desk=desk)
    publish_to_desks(
        desk_group(desk.pk), {"type": "hotline.channel", "channel": channel.pk, "status": "member"}
    )
    return member


@transaction.atomic
def remove_member(*, by, channel_id: int, desk_id: int) -> None:
    """The coordinator removes a desk (the membership row stays, with who and when)."""
    require_coordinator(access_for(by))
    channel = _locked_open_channel(channel_id)
    if channel.kind == ChannelKind.BILATERAL:
        raise Conflict("A bilateral line always has exactly two desks.", code="bilateral_fixed")
    updated = ChannelMember.objects.filter(
        channel=channel, desk_id=desk_id, removed_at__isnull=True
    ).update(removed_at=timezone.now(), removed_by=by)
    if not updated:
        raise NotFound("That desk is not a member.", code="not_a_member")
    trace(channel, ChannelEventKind.MEMBER_REMOVED, actor=by, desk=desk_id)
    # Live connections of that desk stop following the channel.
    event = {"type": "member_removed", "channel": channel.pk, "desk": desk_id}
    fanout.publish_on_commit(channel.pk, event, seq=fanout.CONTROL)


@transaction.atomic
def archive_channel(*, by, channel_id: int) -> HotlineChannel:
    """Make a line read-only: the coordinator, or a writing member of a bilateral line."""
    access = access_for(by)
    channel = HotlineChannel.objects.select_for_update().filter(pk=channel_id).first()
    members = member_desk_ids(channel_id) if channel else set()
    if channel is None or not (members & access.desk_ids or access.sees_all_states):
        raise NotFound("No such line.", code="channel_not_found")
    if not access.is_coordinator:
        if channel.kind != ChannelKind.BILATERAL:
            require_coordinator(access)
        access.require_act_for(min(members & access.desk_ids))
    if channel.status == ChannelStatus.ARCHIVED:
        raise Conflict("Already archived.", code="channel_archived")
    channel.status = ChannelStatus.ARCHIVED
    channel.archived_at = timezone.now()
    channel.save(update_fields=["status", "archived_at"])
    trace(channel, ChannelEventKind.ARCHIVED, actor=by)
    return channel
