"""Line checks: a scheduled test message every member desk must acknowledge in time,
or the line is marked degraded, the regional coordinator is alerted, and each desk that
did not answer is notified and paged like an unacknowledged flash message.

A desk answers by acknowledging the line-check message: the ``ack`` frame, ``POST
/api/v1/channels/{id}/messages/{seq}/ack/``, ``POST /api/v1/channels/{id}/line-checks/
{check}/answer/`` (the same, by the check's id), the console's "Answer line check"
button, or the link in the page it was sent. Answering after the deadline still ends that
desk's page (subject ``linecheck:<check>:desk:<desk>``); the check stays failed and the
line degraded until a later check passes: a late answer shows the line works now, not
that it worked in time.
"""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from core.events import desk_group
from core.events import publish_on_commit as publish_to_groups
from crisis.services.notifications import PageSpec, notify_desks
from deadlines.services import (
    DeadlineBusy,
    cancel_deadlines,
    register_handler,
    schedule_deadline,
)
from directory.models import Desk
from hotline import fanout
from hotline.models import (
    ChannelEventKind,
    ChannelStatus,
    HotlineChannel,
    LineCheck,
    LineCheckStatus,
    LineStatus,
    Message,
    MessageKind,
    Priority,
    Receipt,
)
from hotline.protocol import message_frame
from hotline.selectors import member_desk_ids
from hotline.services.common import regional_desk_ids, trace
from hotline.services.sequence import append_message
from paging.models import Urgency
from paging.services import resolve_pages

LINE_CHECK_KIND = "hotline.line_check"
#: Pages to a desk that failed a line check; acknowledging one answers the check
#: (the ack handler is registered in ``hotline.apps``).
PAGE_KIND = "hotline.line_check"
NOTIFICATION_KIND = "hotline.line_check_failed"


def line_check_page_subject(line_check_id: int, desk_id: int) -> str:
    return f"linecheck:{line_check_id}:desk:{desk_id}"


def line_check_subject(line_check_id: int) -> str:
    return f"hotline.line_check:{line_check_id}"


def _timeout_seconds() -> int:
    return getattr(settings, "HOTLINE_LINE_CHECK_TIMEOUT_SECONDS", 600)


@transaction.atomic
def send_line_check(*, channel_id: int, timeout_seconds: int | None = None) -> LineCheck | None:
    """Post a line-check message on an active channel. Returns None (and writes nothing)
    if the channel is not active or a check is still pending. Called by Celery beat."""
    channel = HotlineChannel.objects.select_for_update().filter(pk=channel_id).first()
    if channel is None or channel.status != ChannelStatus.ACTIVE:
        return None
    if LineCheck.objects.filter(channel=channel, status=LineCheckStatus.PENDING).exists():
        return None
    timeout_seconds = timeout_seconds or _timeout_seconds()
    due_at = timezone.now() + timedelta(seconds=timeout_seconds)
    message = append_message(
        channel_id=channel.pk,
        client_msg_id=uuid.uuid4(),
        desk_ids=None,
        kind=MessageKind.LINE_CHECK,
        priority=Priority.URGENT,
        body=f"Line check: please acknowledge by {due_at:%H:%M:%S} UTC.",
    )
    check = LineCheck.objects.create(channel=channel, message=message, due_at=due_at)
    trace(channel, ChannelEventKind.LINE_CHECK_SENT, line_check=check.pk, message=message.pk)
    fanout.publish_on_commit(channel.pk, message_frame(message), seq=message.seq)
    schedule_deadline(
        kind=LINE_CHECK_KIND,
        subject_key=line_check_subject(check.pk),
        due_at=due_at,
        payload={"line_check_id": check.pk},
    )
    return check


def send_line_checks(*, timeout_seconds: int | None = None) -> int:
    """A line check on every active channel (each in its own transaction)."""
    sent = 0
    for channel_id in HotlineChannel.objects.filter(status=ChannelStatus.ACTIVE).values_list(
        "pk", flat=True
    ):
        if send_line_check(channel_id=channel_id, timeout_seconds=timeout_seconds):
            sent += 1
    return sent


def _missing(check: LineCheck) -> list[int]:
    members = member_desk_ids(check.channel_id)
    acked = set(
        Receipt.objects.filter(
            message_id=check.message_id, acknowledged_at__isnull=False
        ).values_list("desk_id", flat=True)
    )
    return sorted(members - acked)


def _line_status_frame(channel: HotlineChannel, missing: list[int]) -> dict:
    return {
        "type": "line_status",
        "channel": channel.pk,
        "line_status": channel.line_status,
        "last_check_ok_at": channel.last_check_ok_at.isoformat()
        if channel.last_check_ok_at
        else None,
        "missing_desks": missing,
    }


def line_check_acknowledged(message: Message, *, desk_id: int, by=None) -> None:
    """Inside ``receipts.acknowledge_message``: ``desk_id`` answered. Its page (if the
    check failed before it answered) ends; the check passes once every member desk acked."""
    check = LineCheck.objects.select_for_update().filter(message=message).first()
    if check is None:
        return
    resolve_pages(
        subject_key=line_check_page_subject(check.pk, desk_id),
        reason="line check answered",
        by=by,
        desk=Desk.objects.get(pk=desk_id),
    )
    if check.status != LineCheckStatus.PENDING or _missing(check):
        return
    now = timezone.now()
    check.status, check.finished_at = LineCheckStatus.PASSED, now
    check.save(update_fields=["status", "finished_at"])
    channel = HotlineChannel.objects.select_for_update().get(pk=check.channel_id)
    channel.line_status, channel.last_check_ok_at = LineStatus.OK, now
    channel.save(update_fields=["line_status", "last_check_ok_at"])
    trace(channel, ChannelEventKind.LINE_CHECK_PASSED, line_check=check.pk)
    cancel_deadlines(kind=LINE_CHECK_KIND, subject_key=line_check_subject(check.pk))
    fanout.publish_on_commit(channel.pk, _line_status_frame(channel, []))


@register_handler(LINE_CHECK_KIND)
def line_check_overdue(deadline) -> None:
    """The line check was not answered in time: fail it, degrade the line, alert the
    coordinator. Runs inside the firing transaction (acts once).

    The firing holds the deadline row; an answer holds the check row and then cancels the
    deadline. So the check row is taken without waiting (the opposite order would be a
    deadlock): if an answer holds it, the firing is tried again shortly (``DeadlineBusy``)
    and then finds the check answered or still pending."""
    pending = LineCheck.objects.filter(
        pk=deadline.payload["line_check_id"], status=LineCheckStatus.PENDING
    )
    if connection.features.has_select_for_update_nowait:
        try:
            check = pending.select_for_update(nowait=True).first()
        except DatabaseError as exc:
            raise DeadlineBusy("the line check is being answered") from exc
    else:
        check = pending.first()
    if check is None:
        return
    missing = _missing(check)
    check.status, check.finished_at = LineCheckStatus.FAILED, timezone.now()
    check.missing_desk_ids = missing
    check.save(update_fields=["status", "finished_at", "missing_desk_ids"])
    channel = HotlineChannel.objects.select_for_update().get(pk=check.channel_id)
    channel.line_status = LineStatus.DEGRADED
    channel.save(update_fields=["line_status"])
    trace(channel, ChannelEventKind.LINE_CHECK_FAILED, line_check=check.pk, desks=missing)
    frame = _line_status_frame(channel, missing)
    fanout.publish_on_commit(channel.pk, frame)
    alert = dict(frame, type="hotline.line_degraded", name=channel.name)
    publish_to_groups([desk_group(d) for d in regional_desk_ids()], alert)
    _page_missing_desks(check, channel, missing)


def _page_missing_desks(check: LineCheck, channel: HotlineChannel, missing: list[int]) -> None:
    """Each desk that did not answer is told and paged (urgency flash), like a flash
    message nobody acknowledged: a dead line is found before a crisis, not during one."""
    for desk in Desk.objects.filter(pk__in=missing, is_active=True).order_by("code"):

        def body(desk, check=check, channel=channel):
            sent, due = check.sent_at, check.due_at
            return (
                f"The line check on {channel.name} was not answered by {desk.name} "
                f"({desk.code}) in time.\n"
                f"Sent {sent.astimezone(desk.zone):%Y-%m-%d %H:%M} {desk.time_zone} "
                f"({sent.astimezone(UTC):%H:%M} UTC), due "
                f"{due.astimezone(desk.zone):%Y-%m-%d %H:%M} {desk.time_zone} "
                f"({due.astimezone(UTC):%H:%M} UTC).\n"
                "The line is marked degraded. Answer the line check in the console (or with "
                "this message's link) to show the line works."
            )

        notify_desks(
            desks=[desk],
            kind=NOTIFICATION_KIND,
            title=f"Line check on {channel.name} not answered — answer it now",
            payload={"channel": channel.pk, "line_check": check.pk},
            link_path=f"/lines/{channel.pk}/",
            page=PageSpec(
                urgency=Urgency.FLASH,
                kind=PAGE_KIND,
                subject_key=line_check_page_subject(check.pk, desk.pk),
                body=body,
                payload={"line_check_id": check.pk, "message_id": check.message_id},
                exercise=channel.exercise,
            ),
        )
