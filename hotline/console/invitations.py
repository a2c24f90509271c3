"""Crisis room invitations in the console: a desk invited to another state's crisis room
accepts or declines it (its writing members only; readers see why they cannot).

A dashboard panel lists the current desk's pending invitations; the answer calls
``hotline.services.channels`` (accept: the desk joins the room, traced; decline: traced).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.console.shell import console_view, current_desk, run_action
from hotline.selectors import invitations_for
from hotline.services.channels import accept_room_invitation, decline_room_invitation


def invitations_panel(request, access, desk):
    """The current desk's pending room invitations; nothing when there are none."""
    if desk is None:
        return None
    pending = [i for i in invitations_for(access) if i.desk_id == desk.pk]
    if not pending:
        return None
    return (
        "hotline/console/panel_invitations.html",
        {"invitations": pending, "may_answer": access.can_act_for(desk)},
    )


def _answer(request, pk: int, *, accept: bool):
    desk = current_desk(request)
    desk_id = desk.pk if desk else None
    if accept:
        return run_action(
            request,
            lambda: accept_room_invitation(by=request.user, channel_id=pk, desk_id=desk_id),
            success=_("Invitation accepted: your desk is now in the room."),
            redirect_to=reverse("console:line", args=[pk]),
        )
    return run_action(
        request,
        lambda: decline_room_invitation(by=request.user, channel_id=pk, desk_id=desk_id),
        success=_("Invitation declined."),
        redirect_to=reverse("console:dashboard"),
    )


@require_POST
@console_view
def accept(request, pk: int):
    return _answer(request, pk, accept=True)


@require_POST
@console_view
def decline(request, pk: int):
    return _answer(request, pk, accept=False)
