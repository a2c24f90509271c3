"""Flash messages: every receiving desk must acknowledge before the channel's deadline.

A missing acknowledgement escalates in three steps, one deadline apart: re-notify the
desk (step 1), then its supervisors (2), then the regional coordinator (3). Each step
is traced on the channel and sent as an ``escalation`` frame to whoever is notified and
to the sender's desk, so the sender sees each step. The timers are the deadline
engine's (``deadlines.services``): a step acts once, inside the firing
transaction, and the last acknowledgement cancels what is left.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from core.events import desk_group, user_group
from core.events import publish_on_commit as publish_to_groups
from deadlines.services import cancel_deadlines, register_handler, schedule_deadline
from directory.models import DeskMembership, Role
from hotline.models import ChannelEventKind, Message, Priority, Receipt
from hotline.selectors import member_desk_ids
from hotline.services.common import regional_desk_ids, trace

FLASH_KIND = "hotline.flash_ack"
LEVELS = {1: "desk", 2: "supervisors", 3: "coordinator"}


def flash_subject(message_id: int) -> str:
    return f"hotline.message:{message_id}"


def unacknowledged_desk_ids(message: Message) -> list[int]:
    receiving = member_desk_ids(message.channel_id) - {message.sender_desk_id}
    acked = set(
        Receipt.objects.filter(
            message=message, desk_id__in=receiving, acknowledged_at__isnull=False
        ).values_list("desk_id", flat=True)
    )
    return sorted(receiving - acked)


def _schedule_step(message: Message, step: int, deadline_seconds: int) -> None:
    schedule_deadline(
        kind=FLASH_KIND,
        subject_key=flash_subject(message.pk),
        due_at=timezone.now() + timedelta(seconds=deadline_seconds),
        payload={"message_id": message.pk, "step": step},
    )


def start_flash_deadline(message: Message) -> None:
    """Called by ``send_message`` inside its transaction for a flash message."""
    _schedule_step(message, 1, message.channel.ack_deadline_seconds)


def flash_acknowledged(message: Message) -> None:
    """Called inside ``receipts.acknowledge_message``: stop escalating once every desk has acked."""
    if not unacknowledged_desk_ids(message):
        cancel_deadlines(kind=FLASH_KIND, subject_key=flash_subject(message.pk))


@register_handler(FLASH_KIND)
def flash_ack_overdue(deadline) -> None:
    """A flash acknowledgement deadline passed: take the next escalation step.

    Runs inside the firing transaction with the deadline row locked (the engine's
    guarantee), so it acts once; notifications go out after commit.
    """
    payload = deadline.payload
    message = (
        Message.objects.select_related("channel")
        .filter(pk=payload["message_id"], priority=Priority.FLASH)
        .first()
    )
    if message is None:
        return
    missing = unacknowledged_desk_ids(message)
    if not missing:
        return
    step = int(payload.get("step", 1))
    level = LEVELS.get(step, "coordinator")
    frame = {
        "type": "escalation",
        "channel": message.channel_id,
        "message": message.pk,
        "seq": message.seq,
        "step": step,
        "level": level,
        "desks": missing,
    }
    if level == "desk":
        groups = [desk_group(d) for d in missing]
    elif level == "supervisors":
        supervisors = DeskMembership.objects.filter(desk_id__in=missing, role=Role.SUPERVISOR)
        groups = [user_group(u) for u in sorted(set(supervisors.values_list("user_id", flat=True)))]
    else:
        groups = [desk_group(d) for d in regional_desk_ids()]
    if message.sender_desk_id:
        groups.append(desk_group(message.sender_desk_id))
    trace(
        message.channel_id,
        ChannelEventKind.ESCALATED,
        step=step,
        level=level,
        message=message.pk,
        desks=missing,
    )
    publish_to_groups(list(dict.fromkeys(groups)), frame)
    if step < len(LEVELS):
        _schedule_step(message, step + 1, message.channel.ack_deadline_seconds)
