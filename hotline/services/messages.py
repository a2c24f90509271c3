"""Sending messages and recording receipts (delivered, read, acknowledged)."""

from __future__ import annotations

import uuid

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from core.errors import Conflict, InvalidInput, NotFound
from directory.access import access_for
from hotline import fanout
from hotline.models import (
    MAX_BODY_CHARS,
    ChannelMember,
    ChannelStatus,
    HotlineChannel,
    Message,
    MessageKind,
    Priority,
    Receipt,
)
from hotline.protocol import message_frame, receipt_frame
from hotline.selectors import message_for
from hotline.services.common import acting_desk_id, require_writable


class _Duplicate(Exception):
    def __init__(self, message: Message):
        self.message = message


_CLAIM_FOR_DESK = """
    UPDATE {channels} AS ch SET last_seq = ch.last_seq + 1
    FROM (SELECT min(desk_id) AS desk_id FROM {members}
          WHERE channel_id = %(channel)s AND removed_at IS NULL AND desk_id = ANY(%(desks)s)) AS m
    WHERE ch.id = %(channel)s AND ch.status = 'active' AND m.desk_id IS NOT NULL
    RETURNING ch.last_seq, m.desk_id
"""
_CLAIM_FOR_SYSTEM = """
    UPDATE {channels} SET last_seq = last_seq + 1
    WHERE id = %(channel)s AND status = 'active' RETURNING last_seq, NULL::bigint AS desk_id
"""
#: Claim the seq and insert in one statement: one round trip, and the channel row is
#: locked for one statement and the commit only.
_APPEND = """
    WITH claim AS ({claim}),
    inserted AS (
        INSERT INTO {messages} (channel_id, seq, kind, sender_id, sender_desk_id, body,
                                priority, client_msg_id, corrects_id, created_at)
        SELECT %(channel)s, claim.last_seq, %(kind)s, %(sender)s, claim.desk_id, %(body)s,
               %(priority)s, %(client_msg_id)s, %(corrects)s, %(now)s
        FROM claim
        ON CONFLICT (channel_id, client_msg_id) DO NOTHING
        RETURNING id
    )
    SELECT claim.last_seq, claim.desk_id, (SELECT id FROM inserted) FROM claim
"""


def append_message(
    *,
    channel_id: int,
    client_msg_id: uuid.UUID,
    body: str,
    desk_ids: list[int] | None = None,
    sender=None,
    kind: str = MessageKind.TEXT,
    priority: str = Priority.ROUTINE,
    corrects_id: int | None = None,
) -> Message | None:
    """Give the next seq of an active channel to a new message and insert it.

    Assumes it runs inside ``transaction.atomic()``. The ``UPDATE … RETURNING`` takes the
    channel row's lock until commit, so seqs are handed out one sender at a time, in
    commit order, and a rolled-back send gives its number back (no gaps). With
    ``desk_ids`` the sender's desk is the first of them that is a current member (system
    messages pass none). Returns None, having written nothing, if the channel is not
    active or none of ``desk_ids`` is a member: the caller finds out why. Raises
    ``_Duplicate`` (to roll back) if the client message id is already on the channel.
    One statement (plus the commit), because every round trip to the database is latency.
    """
    if connection.vendor != "postgresql":
        return _append_message_portable(
            channel_id=channel_id, client_msg_id=client_msg_id, body=body, desk_ids=desk_ids,
            sender=sender, kind=kind, priority=priority, corrects_id=corrects_id,
        )  # fmt: skip
    tables = {
        "channels": HotlineChannel._meta.db_table,
        "members": ChannelMember._meta.db_table,
        "messages": Message._meta.db_table,
    }
    claim = (_CLAIM_FOR_SYSTEM if desk_ids is None else _CLAIM_FOR_DESK).format(**tables)
    now = timezone.now()
    values = {"channel": channel_id, "desks": desk_ids, "kind": kind, "body": body,
              "sender": sender.pk if sender else None, "priority": priority,
              "client_msg_id": client_msg_id, "corrects": corrects_id, "now": now}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_APPEND.format(claim=claim, **tables), values)
        row = cursor.fetchone()
    if row is None:
        return None
    seq, desk_id, message_id = row
    if message_id is None:
        # Under the channel lock, so the other send of this id has committed.
        raise _Duplicate(Message.objects.get(channel_id=channel_id, client_msg_id=client_msg_id))
    return Message(
        pk=message_id,
        channel_id=channel_id,
        seq=seq,
        kind=kind,
        sender=sender,
        sender_desk_id=desk_id,
        body=body,
        priority=priority,
        client_msg_id=client_msg_id,
        corrects_id=corrects_id,
        created_at=now,
    )


def _append_message_portable(
    *, channel_id, client_msg_id, body, desk_ids, sender, kind, priority, corrects_id
) -> Message | None:
    """:func:`append_message` for the one-machine demo on SQLite, with the ORM.

    Same contract. SQLite has no row locks, but its writers are serialised
    (``BEGIN IMMEDIATE``, see settings), which makes read-then-increment safe there.
    """
    channel = (
        HotlineChannel.objects.select_for_update()
        .filter(pk=channel_id, status=ChannelStatus.ACTIVE)
        .first()
    )
    if channel is None:
        return None
    desk_id = None
    if desk_ids is not None:
        desk_id = ChannelMember.objects.filter(
            channel_id=channel_id, removed_at__isnull=True, desk_id__in=desk_ids
        ).aggregate(first=Min("desk_id"))["first"]
        if desk_id is None:
            return None
    existing = Message.objects.filter(channel_id=channel_id, client_msg_id=client_msg_id).first()
    if existing is not None:
        raise _Duplicate(existing)
    seq = channel.last_seq + 1
    HotlineChannel.objects.filter(pk=channel_id).update(last_seq=seq)
    return Message.objects.create(
        channel_id=channel_id,
        seq=seq,
        kind=kind,
        sender=sender,
        sender_desk_id=desk_id,
        body=body,
        priority=priority,
        client_msg_id=client_msg_id,
        corrects_id=corrects_id,
        created_at=timezone.now(),
    )


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
    """Send ``body`` on a channel for one of the caller's member desks (``desk_id``, or
    the first of their writing desks that is on the channel).

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
                    "A correction must reference a message of the same channel.",
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
            if priority == Priority.FLASH:
                from hotline.services.escalation import start_flash_deadline

                start_flash_deadline(message)
            return message, True
    except _Duplicate as dup:
        original = dup.message
        if original.sender_id != by.pk:
            raise Conflict(
                "That client_msg_id is already used on this channel by someone else.",
                code="client_msg_id_taken",
            ) from None
        return original, False


def _explain_refusal(access, channel_id: int, desk_id: int | None):
    """The send was refused: raise the error that says why (404, 403 or 409)."""
    acting_desk_id(access, channel_id, desk_id)
    status = HotlineChannel.objects.filter(pk=channel_id).values_list("status", flat=True).first()
    if status is None:
        raise NotFound("No such channel.", code="channel_not_found")
    require_writable(status)
    raise Conflict("The channel changed while sending; try again.", code="retry")


def _receiving(access, message: Message, desk_id: int | None) -> int:
    desk = acting_desk_id(access, message.channel_id, desk_id)
    if message.sender_desk_id == desk:
        raise InvalidInput(
            "Receipts are for receiving desks, not the sender's own desk.", code="own_message"
        )
    require_writable(message.channel.status)
    return desk


def _upsert_receipt(message: Message, desk_id: int, by, *, read: bool, ack: bool):
    """Set delivered (and read, and acknowledged) where not yet set. Returns the receipt
    and whether anything changed. Runs inside the caller's transaction."""
    Receipt.objects.bulk_create([Receipt(message=message, desk_id=desk_id)], ignore_conflicts=True)
    receipt = Receipt.objects.select_for_update().get(message=message, desk_id=desk_id)
    now = timezone.now()
    changed = []
    steps = [("delivered", True), ("read", read or ack), ("acknowledged", ack)]
    for step, wanted in steps:
        if wanted and getattr(receipt, f"{step}_at") is None:
            setattr(receipt, f"{step}_at", now)
            setattr(receipt, f"{step}_by", by)
            changed += [f"{step}_at", f"{step}_by"]
    if changed:
        receipt.save(update_fields=changed)
        receipt.message = message
        fanout.publish_on_commit(message.channel_id, receipt_frame(receipt, by=by))
    return receipt, bool(changed)


@transaction.atomic
def mark_read(*, by, message_id: int, desk_id: int | None = None) -> Receipt:
    """The caller's desk has read a message (implies delivered). Idempotent."""
    access = access_for(by)
    message = message_for(access, message_id)
    desk = _receiving(access, message, desk_id)
    return _upsert_receipt(message, desk, by, read=True, ack=False)[0]


@transaction.atomic
def acknowledge_message(*, by, message_id: int, desk_id: int | None = None) -> Receipt:
    """The caller's desk acknowledges a message (implies read and delivered). Idempotent.

    When every receiving desk has acknowledged a flash message its escalation stops;
    when every desk has acknowledged a line check, the check passes.
    """
    access = access_for(by)
    message = message_for(access, message_id)
    desk = _receiving(access, message, desk_id)
    receipt, changed = _upsert_receipt(message, desk, by, read=True, ack=True)
    if changed and message.priority == Priority.FLASH:
        from hotline.services.escalation import flash_acknowledged

        flash_acknowledged(message)
    if changed and message.kind == MessageKind.LINE_CHECK:
        from hotline.services.line_checks import line_check_acknowledged

        line_check_acknowledged(message)
    return receipt


@transaction.atomic
def mark_delivered(*, by, channel_id: int, up_to_seq: int, desk_id: int | None = None) -> int:
    """The caller's desk has received every message up to ``up_to_seq``. Idempotent;
    returns how many receipts were created."""
    access = access_for(by)
    desk = acting_desk_id(access, channel_id, desk_id)
    status = HotlineChannel.objects.filter(pk=channel_id).values_list("status", flat=True)[0]
    require_writable(status)
    receipts, messages = Receipt._meta.db_table, Message._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {receipts} (message_id, desk_id, delivered_at, delivered_by_id)
            SELECT id, %s, %s, %s FROM {messages}
            WHERE channel_id = %s AND seq <= %s
              AND (sender_desk_id IS NULL OR sender_desk_id <> %s)
            ON CONFLICT (message_id, desk_id) DO NOTHING
            RETURNING message_id
            """,
            [desk, timezone.now(), by.pk, channel_id, up_to_seq, desk],
        )
        created = [row[0] for row in cursor.fetchall()]
    for receipt in Receipt.objects.filter(
        message_id__in=created[:200], desk_id=desk
    ).select_related("message"):
        fanout.publish_on_commit(channel_id, receipt_frame(receipt, by=by))
    return len(created)
