"""Sending messages on a line (receipts are in ``receipts``, the seq in ``sequence``)."""

from __future__ import annotations

import uuid

from django.db import transaction

from core.errors import Conflict, InvalidInput, NotFound
from core.metrics import HOTLINE_SENT
from directory.access import access_for
from hotline import fanout
from hotline.models import MAX_BODY_CHARS, HotlineChannel, Message, Priority
from hotline.protocol import message_frame
from hotline.services.common import acting_desk_id, require_writable
from hotline.services.escalation import start_flash_deadline
from hotline.services.sequence import DuplicateClientMessage, append_message


def send_message(
    *,
    by,
    channel_id: int,
    body: str,
    client_msg_id: uuid.UUID | str,
    priority: str = Priority.ROUTINE,
    corrects_id: int | None = None,
    desk_id: int | None = None,
) -> tuple[Message, bool]:
    """Send ``body`` on a line for one of the caller's member desks (``desk_id``, or
    the first of their writing desks that is on the line).

    Returns ``(message, created)``. Idempotent on ``client_msg_id``: sending it again
    returns the original message and ``created=False``; nothing new is written. The
    message is published to live clients only after the transaction commits. A flash
    message starts its acknowledgement deadline (see ``hotline.services.escalation``).
    """
    try:
        client_msg_id = uuid.UUID(str(client_msg_id))
    except ValueError:
        raise InvalidInput("client_msg_id must be a UUID.", code="bad_field") from None
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput("A message needs a body.", code="empty_body")
    if "\x00" in body:  # PostgreSQL cannot store it; REST refuses it the same way
        raise InvalidInput(
            "A message body cannot contain the NUL character (\\u0000).",
            code="bad_field",
            details={"field": "body"},
        )
    if len(body) > MAX_BODY_CHARS:
        raise InvalidInput(
            f"A message body is at most {MAX_BODY_CHARS} characters.",
            code="body_too_long",
            details={"limit": MAX_BODY_CHARS, "length": len(body)},
        )
    if priority not in Priority.values:
        raise InvalidInput(
            f"priority must be one of {', '.join(Priority.values)}.", code="bad_field"
        )
    access = access_for(by)
    desk_ids = sorted(d.pk for d in access.writing_desks())
    if desk_id is not None:
        desk_ids = [d for d in desk_ids if d == desk_id]
    try:
        with transaction.atomic():
            if (
                corrects_id is not None
                and not Message.objects.filter(pk=corrects_id, channel_id=channel_id).exists()
            ):
                raise InvalidInput(
                    "A correction must reference a message of the same line.",
                    code="bad_correction",
                    details={"corrects": corrects_id},
                )
            message = append_message(
                channel_id=channel_id,
                client_msg_id=client_msg_id,
                desk_ids=desk_ids,
                sender=by,
                body=body,
                priority=priority,
                corrects_id=corrects_id,
            )
            if message is None:
                _explain_refusal(access, channel_id, desk_id)
            fanout.publish_on_commit(channel_id, message_frame(message), seq=message.seq)
            transaction.on_commit(HOTLINE_SENT.labels(priority=priority).inc)
            if priority == Priority.FLASH:
                start_flash_deadline(message)
            return message, True
    except DuplicateClientMessage as dup:
        original = dup.message
        if original.sender_id != by.pk:
            raise Conflict(
                "That client_msg_id is already used on this line by someone else.",
                code="client_msg_id_taken",
            ) from None
        return original, False


def _explain_refusal(access, channel_id: int, desk_id: int | None):
    """The send was refused: raise the error that says why (404, 403 or 409)."""
    acting_desk_id(access, channel_id, desk_id)
    status = HotlineChannel.objects.filter(pk=channel_id).values_list("status", flat=True).first()
    if status is None:
        raise NotFound("No such line.", code="channel_not_found")
    require_writable(status)
    raise Conflict("The line changed while sending; try again.", code="retry")
