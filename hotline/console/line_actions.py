"""Lines in the console: propose a bilateral line to another state's desk (or, as the
coordinator, set one up), accept a proposal made to your desk, archive a line, open a
crisis's room.

Each button is offered only to who may use it now: ``hotline.rules`` (accept, archive) and
``hotline.services.crisis_rooms.open_room_refusal`` are the very checks the services make.
Where a step waits for someone else, the page says for whom. The POST views call the
services the REST API calls (``hotline.services.channels``, ``crisis_rooms``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.console.shell import console_view, current_desk, run_action, safe_next
from core.errors import DomainError, InvalidInput
from crisis.lifecycle import OPEN_STATUSES
from crisis.selectors import crises_visible_to
from directory.access import Access, access_for
from directory.models import Desk, DeskKind
from directory.selectors import desks_visible_to
from hotline import rules
from hotline.models import ChannelKind, ChannelStatus, HotlineChannel
from hotline.selectors import channel_for, channels_visible_to, current_members, invitations_for
from hotline.services import channels as channel_services
from hotline.services.crisis_rooms import (
    crisis_room_desk_ids,
    crisis_room_desk_ids_of,
    open_crisis_room_for,
    open_room_refusal,
    room_of,
)

# --- what the person may do now --------------------------------------------------------------


@dataclass(frozen=True)
class LineActions:
    may_accept: bool
    may_archive: bool
    waiting_for: Desk | None  # a proposal waiting for that desk's answer (not ours to give)


def actions_on(access: Access, line: HotlineChannel) -> LineActions:
    """What the caller may do to ``line`` (its ``members`` prefetched) right now."""
    members = {m.desk_id: m.desk for m in line.members.all()}
    may_accept = rules.accept_refusal(access, line, members) is None
    waiting_for = None
    if line.kind == ChannelKind.BILATERAL and line.status == ChannelStatus.PROPOSED:
        peer = rules.proposed_to_desk_id(line, members)
        waiting_for = None if may_accept or peer is None else members[peer]
    return LineActions(
        may_accept=may_accept,
        may_archive=rules.archive_refusal(access, line, members) is None,
        waiting_for=waiting_for,
    )


def proposing_desk(access: Access, desk: Desk | None) -> Desk | None:
    """The desk a bilateral line is proposed from: the current desk, if it is a national
    desk the person writes for (``propose_bilateral_channel`` checks the same)."""
    if desk is None or desk.kind != DeskKind.NATIONAL or not access.can_act_for(desk):
        return None
    return desk


def _bilateral_partner_ids(desk: Desk) -> set[int]:
    lines = (
        HotlineChannel.objects.filter(kind=ChannelKind.BILATERAL)
        .exclude(status=ChannelStatus.ARCHIVED)
        .filter(members__desk=desk, members__removed_at__isnull=True)
    )
    return set(
        current_members()
        .filter(channel__in=lines)
        .exclude(desk=desk)
        .values_list("desk_id", flat=True)
    )


def peer_candidates(access: Access, desk: Desk) -> list[Desk]:
    """National desks of other states that ``desk`` has no open bilateral line with."""
    return list(
        desks_visible_to(access)
        .filter(kind=DeskKind.NATIONAL, is_active=True)
        .exclude(state_id=desk.state_id)
        .exclude(pk__in=_bilateral_partner_ids(desk))
        .select_related("state")
        .order_by("code")
    )


def national_desks(access: Access) -> list[Desk]:
    return list(
        desks_visible_to(access)
        .filter(kind=DeskKind.NATIONAL, is_active=True)
        .select_related("state")
        .order_by("code")
    )


def crises_for_a_room(access: Access, *, limit: int = 30) -> list:
    """Open crises the caller sees that have no room yet and whose room they may open."""
    crises = list(
        crises_visible_to(access).filter(status__in=OPEN_STATUSES).order_by("-pk")[:limit]
    )
    with_room = set(
        HotlineChannel.objects.filter(
            kind=ChannelKind.CRISIS_ROOM, crisis_ref__in=[c.reference for c in crises]
        )
        .exclude(status=ChannelStatus.ARCHIVED)
        .values_list("crisis_ref", flat=True)
    )
    desk_ids = crisis_room_desk_ids_of([c for c in crises if c.reference not in with_room])
    return [
        c
        for c in crises
        if c.pk in desk_ids and open_room_refusal(access, c, desk_ids[c.pk], None) is None
    ]


def lines_page_context(access: Access, desk: Desk | None, lines: list[HotlineChannel]) -> dict:
    """What the lines page offers: proposals to answer, a line to propose, a room to open."""
    proposals = []
    for line in lines:
        if line.kind == ChannelKind.BILATERAL and line.status == ChannelStatus.PROPOSED:
            proposals.append({"line": line, "actions": actions_on(access, line)})
    proposer = proposing_desk(access, desk)
    return {
        "proposals": proposals,
        "proposer": proposer,
        "peers": peer_candidates(access, proposer) if proposer else [],
        "set_up_desks": national_desks(access) if access.is_coordinator else [],
        "room_crises": crises_for_a_room(access),
    }


# --- the crisis page's panel: its room -------------------------------------------------------


def room_panel(request, access, desk, *, crisis):
    """The crisis's room: a link when the caller is in it, the invitation to answer, or
    the button to open it (for who may); nothing for people who can do nothing here."""
    room = room_of(crisis)
    context = {"crisis": crisis, "room": room}
    if room is not None:
        context["visible"] = channels_visible_to(access).filter(pk=room.pk).exists()
        invitation = next(
            (
                i
                for i in invitations_for(access).filter(channel=room)
                if desk is not None and i.desk_id == desk.pk
            ),
            None,
        )
        context["invitation"] = invitation
        context["may_answer"] = invitation is not None and access.can_act_for(invitation.desk_id)
        return "hotline/console/panel_room.html", context
    if open_room_refusal(access, crisis, crisis_room_desk_ids(crisis), None) is not None:
        return None
    context["may_open"] = True
    return "hotline/console/panel_room.html", context


def proposals_panel(request, access, desk):
    """Dashboard: bilateral lines proposed to the current desk, to accept."""
    if desk is None:
        return None
    lines = (
        channels_visible_to(access)
        .filter(kind=ChannelKind.BILATERAL, status=ChannelStatus.PROPOSED, members__desk=desk)
        .exclude(proposed_by_desk=desk)
        .order_by("pk")
    )
    rows = [{"line": line, "actions": actions_on(access, line)} for line in lines]
    if not rows:
        return None
    return "hotline/console/panel_proposals.html", {"proposals": rows}


# --- the POST views ---------------------------------------------------------------------------


def _number(value, name: str) -> int:
    """An id chosen in a form (a junk or out-of-range value is a refusal, never a 500)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 0 < number < 2**31:
        raise InvalidInput(_("Choose %(name)s.") % {"name": name}, code="no_choice")
    return number


@require_POST
@console_view
def propose(request):
    """Propose a bilateral line from the current desk (the coordinator: set one up)."""
    access = access_for(request.user)
    post = request.POST
    lines_url = reverse("console:lines")

    def act():
        if access.is_coordinator and post.get("desk"):
            return channel_services.set_up_bilateral_channel(
                by=request.user,
                desk_id=_number(post.get("desk"), _("the first desk")),
                peer_desk_id=_number(post.get("peer_desk"), _("the other desk")),
            )
        desk = current_desk(request)
        return channel_services.propose_bilateral_channel(
            by=request.user,
            desk_id=desk.pk if desk else 0,
            peer_desk_id=_number(post.get("peer_desk"), _("the other desk")),
        )

    return run_action(
        request,
        act,
        success=lambda line: (
            (
                _("Line %(name)s proposed: it opens when the other desk accepts.")
                if line.status == ChannelStatus.PROPOSED
                else _("Line %(name)s is open.")
            )
            % {"name": line.name}
        ),
        redirect_to=lines_url,
    )


@require_POST
@console_view
def accept(request, pk: int):
    line = channel_for(access_for(request.user), pk)  # hidden or missing: 404 page
    return run_action(
        request,
        lambda: channel_services.accept_bilateral_channel(by=request.user, channel_id=line.pk),
        success=_("Line accepted: it is open."),
        redirect_to=reverse("console:line", args=[line.pk]),
    )


@require_POST
@console_view
def archive(request, pk: int):
    line = channel_for(access_for(request.user), pk)  # hidden or missing: 404 page
    return run_action(
        request,
        lambda: channel_services.archive_channel(by=request.user, channel_id=line.pk),
        success=_("Line archived: it is read-only now."),
        redirect_to=safe_next(request, reverse("console:line", args=[line.pk])),
    )


@require_POST
@console_view
def open_room(request):
    """Open the room of the crisis named in the form (its desks in it or invited), then
    show the room; a refusal is shown on the page the person came from."""
    try:
        crisis_id = _number(request.POST.get("crisis"), _("a crisis"))
        room = open_crisis_room_for(by=request.user, crisis_id=crisis_id)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(safe_next(request, reverse("console:lines")))
    messages.success(request, _("Crisis room opened: %(name)s.") % {"name": room.name})
    return redirect("console:line", pk=room.pk)
