"""Console pages of the hotline. Reading and writing messages happens over the page's
websocket (the hotline protocol: subscribe with since_seq, send with a client message
id, read and ack frames), so the console uses the one implementation desks' systems use."""

from __future__ import annotations

import json

from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from attachments.selectors import attachments_by_item
from attachments.services import attach_file
from audit.services import record_read
from core.console.shell import console_view, current_desk, render_console, run_action
from core.errors import InvalidInput, NotFound
from core.tlp import TLP
from crisis.console.banners import exercise_page_banner
from directory.access import access_for
from hotline.console import line_actions, selectors
from hotline.models import (
    DEFAULT_MESSAGE_TLP,
    LineCheck,
    LineCheckStatus,
    Message,
    Priority,
    Receipt,
)
from hotline.selectors import channel_for, current_members, presence_of
from hotline.services.receipts import answer_line_check as answer


@console_view
def lines(request):
    access = access_for(request.user)
    desk = current_desk(request)
    rows = list(selectors.lines_with_unread(access, desk))
    return render_console(
        request,
        "hotline/console/lines.html",
        {"lines": rows, "parts": ("lines",), **line_actions.lines_page_context(access, desk, rows)},
    )


@console_view
def line(request, pk: int):
    access = access_for(request.user)
    desk = current_desk(request)
    line = channel_for(access, pk)  # hidden or missing: 404 page
    if not request.GET.get("part"):
        record_read(
            user=request.user,
            what="hotline.transcript",
            object_type="hotline_line",
            object_id=line.pk,
            desk=desk,
        )
    members = list(current_members().filter(channel=line).select_related("desk"))
    presence = {row["desk"]: row for row in presence_of([m.desk_id for m in members])}
    acting = _acting_desk(access, desk, {m.desk_id for m in members})
    messages, receipts, last_seq = selectors.conversation(line, access)
    can_send = acting is not None and access.can_act_for(acting) and line.is_writable
    answerable = _answerable_checks(line, acting) if can_send else {}
    files = attachments_by_item(access, "hotline.message", [m.pk for m in messages])
    rows = [
        {
            "message": m,
            "mine": acting is not None and m.sender_desk_id == acting.pk,
            "receipts": receipts.get(m.pk, []),
            "my_receipt": next(
                (r for r in receipts.get(m.pk, []) if acting and r.desk_id == acting.pk), None
            ),
            "line_check": answerable.get(m.pk),
            "attachments": files.get(m.pk, []),
        }
        for m in messages
    ]
    config = {
        "channel": line.pk,  # the protocol's name for the line
        "lastSeq": last_seq,
        "desk": acting.pk if acting else None,
        "deskCodes": {str(m.desk_id): m.desk.code for m in members},
        "canSend": can_send,
        "status": line.status,
        "exerciseMark": str(_("EXERCISE")),
        # As the page's badges say them (truncatewords:1): "Flash…".
        "priorities": {value: Truncator(label).words(1) for value, label in Priority.choices},
        "strings": line_strings(),
    }
    return render_console(
        request,
        "hotline/console/line.html",
        {
            "line": line,
            "members": members,
            "presence": [
                {
                    "desk": m.desk,
                    "online": presence[m.desk_id]["online"],
                    "last_seen_at": _parsed(presence[m.desk_id]["last_seen_at"]),
                }
                for m in members
            ],
            "actions": line_actions.actions_on(access, line),
            "rows": rows,
            "acting": acting,
            "can_send": can_send,
            "priorities": Priority.choices,
            "markings": TLP.choices,
            "default_tlp": DEFAULT_MESSAGE_TLP,
            "config": json.dumps(config),
            "page_banners": exercise_page_banner(line),
        },
    )


def _parsed(iso: str | None):
    return parse_datetime(iso) if iso else None


def line_strings() -> dict[str, str]:
    """What line.js writes on the page, in the reader's language (%(name)s placeholders)."""
    return {
        "lineCheck": _("line check"),
        "desk": _("desk %(id)s"),
        "ackFlash": _("Acknowledge flash message #%(seq)s"),
        "acknowledged": _("acknowledged"),
        "read": _("read"),
        "delivered": _("delivered"),
        "Acknowledged": _("Acknowledged"),
        "sentAs": _("Sent as #%(seq)s."),
        "sentAsAgain": _("Sent as #%(seq)s (already sent)."),
        "sentOverWeb": _(
            "Sent as #%(seq)s over the web; live updates resume when the connection is back."
        ),
        "notSent": _("Not sent: %(reason)s"),
        "errorStatus": _("error %(status)s"),
        "busy": _("Not sent yet: the server is busy; it will be sent when the line is back."),
        "offline": _("Offline: will send when the line is back."),
        "writeFirst": _("Write a message first."),
        "sending": _("Sending…"),
        "sendingWeb": _("Sending over the web…"),
        "deskOnline": _("online"),
        "deskOffline": _("offline"),
        "lastSeen": _("last seen %(time)s"),
    }


def _acting_desk(access, desk, member_ids: set[int]):
    """The desk the person speaks for on this line: the current desk if it is a member,
    else their first writing desk that is."""
    if desk is not None and desk.pk in member_ids:
        return desk
    return next((d for d in access.writing_desks() if d.pk in member_ids), None)


def _answerable_checks(line, acting) -> dict:
    """Line checks ``acting`` may still answer, by message id: pending ones, and failed
    ones it missed (its page is still open), that it has not acknowledged."""
    answered = Receipt.objects.filter(
        desk=acting, acknowledged_at__isnull=False, message__line_check__channel=line
    ).values_list("message_id", flat=True)
    checks = LineCheck.objects.filter(channel=line).exclude(message_id__in=answered)
    return {
        c.message_id: c
        for c in checks
        if c.status == LineCheckStatus.PENDING
        or (c.status == LineCheckStatus.FAILED and acting.pk in (c.missing_desk_ids or []))
    }


@require_POST
@console_view
def answer_line_check(request, pk: int, check_id: int):
    """The "Answer line check" button: the current desk acknowledges the check's message."""
    access = access_for(request.user)
    line = channel_for(access, pk)  # hidden or missing: 404 page
    check = LineCheck.objects.filter(pk=check_id, channel=line).first()
    if check is None:
        raise NotFound(_("No such line check."), code="line_check_not_found")
    members = set(current_members().filter(channel=line).values_list("desk_id", flat=True))
    acting = _acting_desk(access, current_desk(request), members)
    return run_action(
        request,
        lambda: answer(
            by=request.user, line_check_id=check.pk, desk_id=acting.pk if acting else None
        ),
        success=_("Line check answered: your desk hears this line."),
        redirect_to=reverse("console:line", args=[line.pk]),
    )


@require_POST
@console_view
def attach_to_message(request, pk: int, message_id: int):
    """The "Attach a file" form under one's own message: ``attachments.attach_file``
    decides (size, type by content, marking, who); its refusal is shown on the line."""
    access = access_for(request.user)
    line = channel_for(access, pk)  # hidden or missing: 404 page
    upload = request.FILES.get("file")

    def attach():
        if upload is None:
            raise InvalidInput(_("Choose a file to attach."), code="no_file")
        return attach_file(
            by=request.user,
            kind="hotline.message",
            object_id=message_id,
            upload=upload,
            tlp=request.POST.get("tlp") or None,
        )

    return run_action(
        request,
        attach,
        success=lambda a: (
            _("%(file)s attached (%(tlp)s).") % {"file": a.filename, "tlp": a.tlp_label}
        ),
        redirect_to=reverse("console:line", args=[line.pk]) + f"#msg-{_seq_of(line, message_id)}",
    )


def _seq_of(line, message_id: int) -> int:
    return (
        Message.objects.filter(channel=line, pk=message_id).values_list("seq", flat=True).first()
        or 0
    )


def lines_panel(request, access, desk):
    """Dashboard panel: the desk's lines with unread counts and line status."""
    return "hotline/console/panel_lines.html", {
        "lines": list(selectors.lines_with_unread(access, desk)[:12])
    }
