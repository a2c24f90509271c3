"""Console pages of the hotline. Reading and writing messages happens over the page's
websocket (the hotline protocol: subscribe with since_seq, send with a client message
id, read and ack frames), so the console uses the one implementation desks' systems use."""

from __future__ import annotations

import json

from audit.services import record_read
from core.console.shell import console_view, current_desk, render_console
from directory.access import access_for
from hotline.console import selectors
from hotline.models import Priority
from hotline.selectors import channel_for, current_members


@console_view
def lines(request):
    access = access_for(request.user)
    desk = current_desk(request)
    return render_console(
        request,
        "hotline/console/lines.html",
        {"lines": list(selectors.lines_with_unread(access, desk)), "parts": ("lines",)},
    )


@console_view
def line(request, pk: int):
    access = access_for(request.user)
    desk = current_desk(request)
    line = channel_for(access, pk)  # hidden or missing: 404 page
    record_read(
        user=request.user,
        what="hotline.transcript",
        object_type="hotline_line",
        object_id=line.pk,
        desk=desk,
    )
    members = list(current_members().filter(channel=line).select_related("desk"))
    member_ids = {m.desk_id for m in members}
    acting = desk if desk is not None and desk.pk in member_ids else None
    if acting is None:
        acting = next((d for d in access.writing_desks() if d.pk in member_ids), None)
    messages, receipts = selectors.conversation(line)
    rows = [
        {
            "message": m,
            "mine": acting is not None and m.sender_desk_id == acting.pk,
            "receipts": receipts.get(m.pk, []),
            "my_receipt": next(
                (r for r in receipts.get(m.pk, []) if acting and r.desk_id == acting.pk), None
            ),
        }
        for m in messages
    ]
    can_send = acting is not None and access.can_act_for(acting) and line.is_writable
    config = {
        "channel": line.pk,  # the protocol's name for the line
        "lastSeq": messages[-1].seq if messages else 0,
        "desk": acting.pk if acting else None,
        "deskCodes": {str(m.desk_id): m.desk.code for m in members},
        "canSend": can_send,
    }
    return render_console(
        request,
        "hotline/console/line.html",
        {
            "line": line,
            "members": members,
            "rows": rows,
            "acting": acting,
            "can_send": can_send,
            "priorities": Priority.choices,
            "config": json.dumps(config),
        },
    )


def lines_panel(request, access, desk):
    """Dashboard panel: the desk's lines with unread counts and line status."""
    return "hotline/console/panel_lines.html", {
        "lines": list(selectors.lines_with_unread(access, desk)[:12])
    }
