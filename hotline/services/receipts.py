"""Receipts: a receiving desk has a message delivered, read, acknowledged.

Each step implies the ones before it and is set once (the first person and time stay).
Acknowledging is where the flash escalation and the line check learn they are answered,
so this module sits above both (``escalation``, ``line_checks``) and neither imports it.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput, NotFound
from directory.access import access_for
from hotline import fanout
from hotline.models import HotlineChannel, LineCheck, Message, MessageKind, Priority, Receipt
from hotline.protocol import receipt_frame
from hotline.selectors import message_for
from hotline.services.common import acting_desk_id, require_writable
from hotline.services.escalation import flash_acknowledged
from hotline.services.line_checks import line_check_acknowledged


def _receiving(access, message: Message, desk_id: int | None) -> int:
    desk = acting_desk_id(access, message.channel_id, desk_id)
    if message.sender_desk_id == desk:
        raise InvalidInput(
            _("Receipts are for receiving desks, not the sender's own desk."), code="own_message"
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
        flash_acknowledged(message)
    if changed and message.kind == MessageKind.LINE_CHECK:
        line_check_acknowledged(message, desk_id=desk, by=by)
    return receipt


def answer_line_check(*, by, line_check_id: int, desk_id: int | None = None) -> Receipt:
    """The caller's desk answers a line check: it acknowledges the check's message (the
    same as the ``ack`` frame). Idempotent; a check on a line the caller may not see is
    404, like a missing one. Accepted after the deadline too (it ends the desk's page)."""
    message_id = (
        LineCheck.objects.filter(pk=line_check_id).values_list("message_id", flat=True).first()
    )
    if message_id is None:
        raise NotFound(_("No such line check."))
    return acknowledge_message(by=by, message_id=message_id, desk_id=desk_id)


def acknowledge_line_check_page(*, page, by) -> None:
    """Ack handler of a failed line check's page: the page's desk answers the check."""
    acknowledge_message(by=by, message_id=page.payload["message_id"], desk_id=page.desk_id)


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
            f"INSERT INTO {receipts} (message_id, desk_id, delivered_at, delivered_by_id) "  # nosec B608  # table names are the models' own db_table; values are parameters
            f"SELECT id, %s, %s, %s FROM {messages} "
            "WHERE channel_id = %s AND seq <= %s "
            "AND (sender_desk_id IS NULL OR sender_desk_id <> %s) "
            "ON CONFLICT (message_id, desk_id) DO NOTHING "
            "RETURNING message_id",
            [desk, timezone.now(), by.pk, channel_id, up_to_seq, desk],
        )
        created = [row[0] for row in cursor.fetchall()]
    for receipt in Receipt.objects.filter(
        message_id__in=created[:200], desk_id=desk
    ).select_related("message"):
        fanout.publish_on_commit(channel_id, receipt_frame(receipt, by=by))
    return len(created)
