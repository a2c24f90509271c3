"""Small shared pieces of the hotline services: acting desk, trace, regional desks."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound, PermissionDenied
from directory.access import Access
from directory.models import WRITING_ROLES, Desk, DeskKind
from hotline.models import ChannelEvent, ChannelMember, ChannelStatus, HotlineChannel


def acting_desk_id(access: Access, channel_id: int, desk_id: int | None = None) -> int:
    """The desk the caller acts for on this line: a current member desk on which the
    caller has a writing role. Non-members get 404 (hidden == missing), except people
    who may read every line (coordinators, auditors), who get 403."""
    members = set(
        ChannelMember.objects.filter(
            channel_id=channel_id, removed_at__isnull=True, desk_id__in=access.desk_ids
        ).values_list("desk_id", flat=True)
    )
    if desk_id is not None:
        members &= {desk_id}
    for candidate in sorted(members):
        if access.can_act_for(candidate):
            return candidate
    if members:
        access.require_act_for(min(members))  # raises 403 naming the role
    if access.sees_all_states and HotlineChannel.objects.filter(pk=channel_id).exists():
        raise PermissionDenied(_("Your desk is not a member of this line."), code="not_a_member")
    raise NotFound(_("No such line."), code="channel_not_found")


def require_writable(status: str) -> None:
    if status == ChannelStatus.ARCHIVED:
        raise Conflict(_("This line is archived: it is read-only."), code="channel_archived")
    if status == ChannelStatus.PROPOSED:
        raise Conflict(
            _("This line has been proposed but not accepted yet."), code="channel_not_active"
        )


def require_coordinator(access: Access) -> Desk:
    for membership in access.memberships:
        if membership.role == "coordinator" and membership.role in WRITING_ROLES:
            return membership.desk
    raise PermissionDenied(_("Only a regional coordinator may do this."), code="coordinator_only")


def trace(channel: HotlineChannel | int, kind: str, *, actor=None, desk=None, **data) -> None:
    ChannelEvent.objects.create(
        channel_id=channel if isinstance(channel, int) else channel.pk,
        kind=kind,
        actor=actor,
        desk_id=desk if isinstance(desk, int) or desk is None else desk.pk,
        data=data,
    )


def regional_desk_ids() -> list[int]:
    return list(
        Desk.objects.filter(kind=DeskKind.REGIONAL, is_active=True).values_list("id", flat=True)
    )
