"""Whether a line may be accepted, archived or a crisis room opened now, decided without
the database.

The services in ``hotline.services`` ask these rules and raise their refusal; the console
asks the same rules to offer only the buttons that can succeed, so the page and the
service cannot disagree (as ``humanitarian.rules`` does for assistance). Each rule reads
the caller's ``Access`` and records already in hand (the line, its member desk ids) and
returns the domain error that says why not, or None.
"""

from __future__ import annotations

from collections.abc import Collection

from django.utils.translation import gettext as _

from core.errors import Conflict, DomainError, PermissionDenied
from directory.access import Access
from hotline.models import ChannelKind, ChannelStatus, HotlineChannel


def _act_refusal(access: Access, desk_id: int) -> DomainError | None:
    try:
        access.require_act_for(desk_id)
    except DomainError as refusal:
        return refusal
    return None


def proposed_to_desk_id(channel: HotlineChannel, member_ids: Collection[int]) -> int | None:
    """The desk a proposed bilateral line waits for (the member that did not propose)."""
    peers = sorted(set(member_ids) - {channel.proposed_by_desk_id})
    return peers[0] if peers else None


def accept_refusal(
    access: Access, channel: HotlineChannel, member_ids: Collection[int]
) -> DomainError | None:
    """Why the caller may not accept ``channel`` now (None: they may).

    Only a proposed bilateral line is accepted, and only by a writing member of the desk
    it was proposed to. Assumes the caller may see the line.
    """
    if channel.kind != ChannelKind.BILATERAL or channel.status != ChannelStatus.PROPOSED:
        return Conflict(_("Only a proposed bilateral line can be accepted."), code="not_proposed")
    peer = proposed_to_desk_id(channel, member_ids)
    if peer is None:
        return Conflict(_("The proposed-to desk is no longer on this line."), code="not_proposed")
    return _act_refusal(access, peer)


def archive_refusal(
    access: Access, channel: HotlineChannel, member_ids: Collection[int]
) -> DomainError | None:
    """Why the caller may not archive ``channel`` now (None: they may).

    The regional coordinator archives any line; a writing member of one of its desks
    archives a bilateral line (proposed or active). Assumes the caller may see the line.
    """
    if not access.is_coordinator:
        if channel.kind != ChannelKind.BILATERAL:
            return PermissionDenied(
                _("Only a regional coordinator may do this."), code="coordinator_only"
            )
        own = sorted(
            set(member_ids) & access.desk_ids, key=lambda d: (not access.can_act_for(d), d)
        )
        if not own:  # an auditor or a superuser: they read every line, write none
            return PermissionDenied(
                _("Only the coordinator or a member desk may archive this line."),
                code="read_only",
            )
        refusal = _act_refusal(access, own[0])
        if refusal is not None:
            return refusal
    if channel.status == ChannelStatus.ARCHIVED:
        return Conflict(_("Already archived."), code="channel_archived")
    return None
