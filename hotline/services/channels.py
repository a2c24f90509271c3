"""Opening, accepting, changing and archiving lines (``HotlineChannel``)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.events import desk_group
from core.events import publish_on_commit as publish_to_desks
from crisis.models import Crisis
from directory.access import access_for
from directory.models import Desk, DeskKind
from hotline import fanout, rules
from hotline.models import (
    ChannelEventKind,
    ChannelKind,
    ChannelMember,
    ChannelStatus,
    HotlineChannel,
    InvitationStatus,
    RoomInvitation,
)
from hotline.selectors import member_desk_ids
from hotline.services.common import regional_desk_ids, require_coordinator, trace


def _active_desk(desk_id: int) -> Desk:
    try:
        return Desk.objects.select_related("state").get(pk=desk_id, is_active=True)
    except Desk.DoesNotExist:
        raise InvalidInput(
            _("Desk %(desk_id)s does not exist or is not active.") % {"desk_id": desk_id},
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
        raise InvalidInput(_("A bilateral line joins two national desks."), code="not_national")
    if a.state_id == b.state_id:
        raise InvalidInput(
            _("A bilateral line joins desks of two different states."), code="same_state"
        )
    if _open_bilateral_between(a, b):
        raise Conflict(
            _("These two desks already have an open bilateral line."), code="line_exists"
        )


def _is_exercise_ref(crisis_ref: str) -> bool:
    """Whether ``crisis_ref`` names an exercise crisis (a room of a drill is a drill room)."""
    return bool(crisis_ref) and Crisis.objects.filter(reference=crisis_ref, exercise=True).exists()


def _create(
    *, kind, name, status, by, desks, proposed_by_desk=None, invited=(), **extra
) -> HotlineChannel:
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
        **({"invited": sorted(d.pk for d in invited)} if invited else {}),
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
        raise NotFound(_("No such line."), code="channel_not_found")
    refusal = rules.accept_refusal(access, channel, members)
    if refusal is not None:
        raise refusal
    peer_id = rules.proposed_to_desk_id(channel, members)
    channel.status = ChannelStatus.ACTIVE
    channel.save(update_fields=["status"])
    trace(channel, ChannelEventKind.ACCEPTED, actor=by, desk=peer_id)
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


def room_max_members() -> int:
    """Most desks a crisis room may have (members and pending invitations)."""
    return getattr(settings, "HOTLINE_ROOM_MAX_MEMBERS", 30)


def ack_deadline_bounds() -> tuple[int, int]:
    """Shortest and longest flash acknowledgement deadline a room may ask for, in seconds:
    short enough deadlines would page other states' supervisors every few seconds."""
    return (
        getattr(settings, "HOTLINE_ACK_DEADLINE_MIN_SECONDS", 60),
        getattr(settings, "HOTLINE_ACK_DEADLINE_MAX_SECONDS", 24 * 3600),
    )


def _check_ack_deadline(seconds) -> None:
    low, high = ack_deadline_bounds()
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not low <= seconds <= high:
        raise InvalidInput(
            _("ack_deadline_seconds must be a whole number from %(low)s to %(high)s.")
            % {"low": low, "high": high},
            code="bad_deadline",
            details={"field": "ack_deadline_seconds", "min": low, "max": high},
        )


def _check_room_size(count: int) -> None:
    limit = room_max_members()
    if count > limit:
        raise InvalidInput(
            _(
                "A crisis room has at most %(limit)s desks (the regional centre "
                "included); this one would have %(count)s."
            )
            % {"limit": limit, "count": count},
            code="too_many_desks",
            details={"limit": limit, "count": count},
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
    """Open a multilateral crisis room; the regional centre is always in it.

    - ``by=None`` (the system, for a crisis protocol's level) or a coordinator: every
      named desk is a member at once.
    - A writing member of one of the named desks: that state's desks and the regional
      centre are members at once; a desk of any other state is *invited* and joins only
      when its people accept (:func:`accept_room_invitation`). Nobody is put in another
      state's room, or paged by its flash messages, without their consent.

    People's rooms are capped at ``HOTLINE_ROOM_MAX_MEMBERS`` desks (invitations
    included) and a flash deadline within ``ack_deadline_bounds()``.
    """
    access = access_for(by) if by is not None else None
    own_desk_named = access is not None and any(access.can_act_for(d) for d in desk_ids)
    if access is not None and not access.is_coordinator and not own_desk_named:
        raise PermissionDenied(
            _(
                "Open a crisis room with one of your own desks in it (only the regional "
                "coordinator opens rooms for others)."
            ),
            code="coordinator_only",
        )
    if ack_deadline_seconds is not None:
        _check_ack_deadline(ack_deadline_seconds)
    wanted = list(dict.fromkeys(desk_ids))
    wanted += [d for d in regional_desk_ids() if d not in wanted]
    if access is not None:
        _check_room_size(len(wanted))
    desks = [_active_desk(d) for d in wanted]
    if len(desks) < 2:
        raise InvalidInput(_("A crisis room needs at least two desks."), code="too_few_desks")
    invited = []
    if access is not None and not access.is_coordinator:
        own_states = {d.state_id for d in access.writing_desks()}
        invited = [d for d in desks if not d.is_regional and d.state_id not in own_states]
        desks = [d for d in desks if d not in invited]
    extra = {"crisis_ref": crisis_ref, "exercise": _is_exercise_ref(crisis_ref)}
    if ack_deadline_seconds is not None:
        extra["ack_deadline_seconds"] = ack_deadline_seconds
    channel = _create(
        kind=ChannelKind.CRISIS_ROOM,
        name=name,
        status=ChannelStatus.ACTIVE,
        by=by,
        desks=desks,
        invited=invited,
        **extra,
    )
    if invited:
        inviter = next(d for d in access.writing_desks() if d.pk in wanted)
        RoomInvitation.objects.bulk_create(
            [
                RoomInvitation(channel=channel, desk=d, invited_by=by, invited_by_desk=inviter)
                for d in invited
            ]
        )
        event = {"type": "hotline.channel", "channel": channel.pk, "status": "invited"}
        publish_to_desks([desk_group(d.pk) for d in invited], event)
    return channel


def _pending_invitation(access, channel_id: int, desk_id: int | None) -> RoomInvitation:
    """The caller's desk's pending invitation to a room (locked), else 404."""
    invitations = RoomInvitation.objects.select_for_update().filter(
        channel_id=channel_id, status=InvitationStatus.PENDING, desk_id__in=access.desk_ids
    )
    if desk_id is not None:
        invitations = invitations.filter(desk_id=desk_id)
    invitation = invitations.order_by("desk_id").first()
    if invitation is None:
        raise NotFound(_("Your desk has no pending invitation to this line."), code="no_invitation")
    access.require_act_for(invitation.desk_id)
    return invitation


@transaction.atomic
def accept_room_invitation(*, by, channel_id: int, desk_id: int | None = None) -> ChannelMember:
    """A writing member of an invited desk accepts: the desk joins the room (traced)."""
    access = access_for(by)
    channel = HotlineChannel.objects.select_for_update().filter(pk=channel_id).first()
    invitation = _pending_invitation(access, channel_id, desk_id)
    if channel.status == ChannelStatus.ARCHIVED:
        raise Conflict(_("This line is archived: it is read-only."), code="channel_archived")
    if len(member_desk_ids(channel)) >= room_max_members():
        raise Conflict(
            _("This room already has %(limit)s desks, the most it may have.")
            % {"limit": room_max_members()},
            code="room_full",
            details={"limit": room_max_members()},
        )
    invitation.status = InvitationStatus.ACCEPTED
    invitation.answered_by, invitation.answered_at = by, timezone.now()
    invitation.save(update_fields=["status", "answered_by", "answered_at"])
    member = ChannelMember.objects.create(channel=channel, desk_id=invitation.desk_id, added_by=by)
    trace(channel, ChannelEventKind.MEMBER_ADDED, actor=by, desk=invitation.desk_id, invited=True)
    publish_to_desks(
        [desk_group(d) for d in sorted(member_desk_ids(channel))],
        {"type": "hotline.channel", "channel": channel.pk, "status": "member"},
    )
    return member


@transaction.atomic
def decline_room_invitation(*, by, channel_id: int, desk_id: int | None = None) -> None:
    """A writing member of an invited desk declines; the desk stays out (traced)."""
    access = access_for(by)
    invitation = _pending_invitation(access, channel_id, desk_id)
    invitation.status = InvitationStatus.DECLINED
    invitation.answered_by, invitation.answered_at = by, timezone.now()
    invitation.save(update_fields=["status", "answered_by", "answered_at"])
    trace(channel_id, ChannelEventKind.INVITATION_DECLINED, actor=by, desk=invitation.desk_id)


@transaction.atomic
def open_broadcast_channel(*, by, name: str = "Regional broadcast") -> HotlineChannel:
    """The coordinator opens the region-wide broadcast line with every active desk."""
    require_coordinator(access_for(by))
    if HotlineChannel.objects.filter(kind=ChannelKind.BROADCAST).exclude(
        status=ChannelStatus.ARCHIVED
    ):
        raise Conflict(_("The broadcast line is already open."), code="line_exists")
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
        raise NotFound(_("No such line."), code="channel_not_found")
    if channel.status == ChannelStatus.ARCHIVED:
        raise Conflict(_("This line is archived: it is read-only."), code="channel_archived")
    return channel


@transaction.atomic
def add_member(*, by, channel_id: int, desk_id: int) -> ChannelMember:
    """The coordinator adds a desk to a crisis room or the broadcast line (traced)."""
    require_coordinator(access_for(by))
    channel = _locked_open_channel(channel_id)
    if channel.kind == ChannelKind.BILATERAL:
        raise Conflict(_("A bilateral line always has exactly two desks."), code="bilateral_fixed")
    desk = _active_desk(desk_id)
    members = member_desk_ids(channel)
    if desk.pk in members:
        raise Conflict(_("That desk is already a member."), code="already_member")
    if channel.kind == ChannelKind.CRISIS_ROOM and len(members) >= room_max_members():
        raise Conflict(
            _("This room already has %(limit)s desks, the most it may have.")
            % {"limit": room_max_members()},
            code="room_full",
            details={"limit": room_max_members()},
        )
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
        raise Conflict(_("A bilateral line always has exactly two desks."), code="bilateral_fixed")
    updated = ChannelMember.objects.filter(
        channel=channel, desk_id=desk_id, removed_at__isnull=True
    ).update(removed_at=timezone.now(), removed_by=by)
    if not updated:
        raise NotFound(_("That desk is not a member."), code="not_a_member")
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
        raise NotFound(_("No such line."), code="channel_not_found")
    refusal = rules.archive_refusal(access, channel, members)
    if refusal is not None:
        raise refusal
    channel.status = ChannelStatus.ARCHIVED
    channel.archived_at = timezone.now()
    channel.save(update_fields=["status", "archived_at"])
    trace(channel, ChannelEventKind.ARCHIVED, actor=by)
    event = {"type": "hotline.channel", "channel": channel.pk, "status": channel.status}
    publish_to_desks([desk_group(d) for d in sorted(members)], event)
    return channel
