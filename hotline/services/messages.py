"""Sending messages on a line (receipts are in ``receipts``, the seq in ``sequence``)."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils.translation import gettext as _

from core.disclosure import check_marking, forward_marking, is_narrow, organisation
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.metrics import EXERCISE_TRAFFIC, HOTLINE_SENT
from core.tlp import TLP, label
from directory.access import access_for
from hotline import fanout
from hotline.models import (
    DEFAULT_MESSAGE_TLP,
    MAX_BODY_CHARS,
    HotlineChannel,
    Message,
    Priority,
)
from hotline.protocol import RECIPIENTS_KEY, message_frame
from hotline.selectors import current_members, message_visible_to
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
    tlp: str | None = None,
) -> tuple[Message, bool]:
    """Send ``body`` on a line for one of the caller's member desks (``desk_id``, or
    the first of their writing desks that is on the line).

    Returns ``(message, created)``. Idempotent on ``client_msg_id``: sending it again
    returns the original message and ``created=False``; nothing new is written. The
    message is published to live clients only after the transaction commits. A flash
    message starts its acknowledgement deadline (see ``hotline.services.escalation``).
    ``tlp`` is its marking (``DEFAULT_MESSAGE_TLP`` if not given); a narrow one
    (AMBER+STRICT, RED) keeps the line's desks of this moment as its recipients.
    """
    tlp = _marking(tlp)
    try:
        client_msg_id = uuid.UUID(str(client_msg_id))
    except ValueError:
        raise InvalidInput(_("client_msg_id must be a UUID."), code="bad_field") from None
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput(_("A message needs a body."), code="empty_body")
    if "\x00" in body:  # PostgreSQL cannot store it; REST refuses it the same way
        raise InvalidInput(
            _("A message body cannot contain the NUL character (\\u0000)."),
            code="bad_field",
            details={"field": "body"},
        )
    if len(body) > MAX_BODY_CHARS:
        raise InvalidInput(
            _("A message body is at most %(max_body_chars)s characters.")
            % {"max_body_chars": MAX_BODY_CHARS},
            code="body_too_long",
            details={"limit": MAX_BODY_CHARS, "length": len(body)},
        )
    if priority not in Priority.values:
        raise InvalidInput(
            _("priority must be one of %(priority_values)s.")
            % {"priority_values": ", ".join(Priority.values)},
            code="bad_field",
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
                    _("A correction must reference a message of the same line."),
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
                tlp=tlp,
            )
            if message is None:
                _explain_refusal(access, channel_id, desk_id)
            frame = message_frame(message)
            if is_narrow(tlp):
                recipients = list(
                    current_members()
                    .filter(channel_id=channel_id)
                    .values_list("desk_id", "desk__state_id")
                )
                message.recipient_desks.set([desk for desk, _state in recipients])
                frame[RECIPIENTS_KEY] = [list(r) for r in recipients]
            fanout.publish_on_commit(channel_id, frame, seq=message.seq)
            if frame["exercise"]:  # drill traffic stays out of the real figure
                transaction.on_commit(EXERCISE_TRAFFIC.labels(what="hotline_sent").inc)
            else:
                transaction.on_commit(HOTLINE_SENT.labels(priority=priority).inc)
            if priority == Priority.FLASH:
                start_flash_deadline(message)
            return message, True
    except DuplicateClientMessage as dup:
        original = dup.message
        if original.sender_id != by.pk:
            raise Conflict(
                _("That client_msg_id is already used on this line by someone else."),
                code="client_msg_id_taken",
            ) from None
        return original, False


def _explain_refusal(access, channel_id: int, desk_id: int | None):
    """The send was refused: raise the error that says why (404, 403 or 409)."""
    acting_desk_id(access, channel_id, desk_id)
    status = HotlineChannel.objects.filter(pk=channel_id).values_list("status", flat=True).first()
    if status is None:
        raise NotFound(_("No such line."), code="channel_not_found")
    require_writable(status)
    raise Conflict(_("The line changed while sending; try again."), code="retry")


def _marking(tlp) -> str:
    if tlp is None or tlp == "":
        return DEFAULT_MESSAGE_TLP
    try:
        return check_marking(tlp)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="bad_field", details={"field": "tlp"}) from None


def forward_message(
    *,
    by,
    message: Message,
    to_channel_id: int,
    client_msg_id: uuid.UUID | str,
    tlp: str | None = None,
    desk_id: int | None = None,
) -> tuple[Message, bool]:
    """Forward a message the caller may see to another line, as a new message quoting it.

    The forward's marking is the narrower of the original's and ``tlp`` (TLP 2.0: a
    marking never widens). Refused with 403 ``tlp_red`` for a RED original (it never
    leaves its recipients), and with 403 ``tlp_amber_strict`` for an AMBER+STRICT original
    when a desk of the other line is outside its recipients' organisations.
    Sending is :func:`send_message` (same idempotency on ``client_msg_id``).
    """
    access = access_for(by)
    if not message_visible_to(access, message):
        raise NotFound(_("No such message."), code="message_not_found")
    marking = forward_marking(message.tlp, _marking(tlp) if tlp else None)
    if message.tlp != TLP.AMBER_STRICT:
        # (a message the forwarder narrows to AMBER+STRICT is theirs to address)
        return _forward(by, message, to_channel_id, client_msg_id, marking, desk_id)
    with transaction.atomic():
        # The other line's row stays locked from this check to the send (joining a line
        # locks it too): no desk can join between the check and the recipients the send
        # records.
        HotlineChannel.objects.select_for_update().filter(pk=to_channel_id).first()
        allowed = {organisation(d.pk, d.state_id) for d in message.recipient_desks.all()} or {
            organisation(message.sender_desk_id, _state_of(message))
        }
        outside = [
            m.desk.code
            for m in current_members().filter(channel_id=to_channel_id).select_related("desk")
            if organisation(m.desk_id, m.desk.state_id) not in allowed
        ]
        if outside:
            raise PermissionDenied(
                _(
                    "TLP:AMBER+STRICT stays in its recipients' organisations: desks "
                    "%(items)s of that line are outside them."
                )
                % {"items": ", ".join(sorted(outside))},
                code="tlp_amber_strict",
                details={"tlp": marking, "desks": sorted(outside)},
            )
        return _forward(by, message, to_channel_id, client_msg_id, marking, desk_id)


def _forward(by, message: Message, to_channel_id: int, client_msg_id, marking: str, desk_id):
    origin = message.sender_desk.code if message.sender_desk_id else "system"
    header = (
        f"[{label(marking)}] Forwarded from line {message.channel_id} #{message.seq} ({origin}):\n"
    )
    body = header + message.body[: MAX_BODY_CHARS - len(header)]
    return send_message(
        by=by,
        channel_id=to_channel_id,
        body=body,
        client_msg_id=client_msg_id,
        priority=Priority.ROUTINE,
        desk_id=desk_id,
        tlp=marking,
    )


def _state_of(message: Message) -> int | None:
    return message.sender_desk.state_id if message.sender_desk_id else None
