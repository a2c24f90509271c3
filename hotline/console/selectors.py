"""Console reads for the hotline, built on ``hotline.selectors`` (already scoped)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from directory.access import Access
from directory.models import Desk
from hotline.models import HotlineChannel, Message, Priority, Receipt
from hotline.selectors import channels_visible_to, message_visible_to, messages_in, receipts_of

CONVERSATION_LENGTH = 200


def _count_not_done_by(desk: Desk, *, done: str, **filters) -> Subquery:
    """Per line: messages from other desks (matching ``filters``) that ``desk`` has no
    receipt with ``done`` set for."""
    rows = (
        Message.objects.filter(channel=OuterRef("pk"), **filters)
        .exclude(sender_desk=desk)
        .exclude(
            Exists(
                Receipt.objects.filter(
                    message=OuterRef("pk"), desk=desk, **{f"{done}__isnull": False}
                )
            )
        )
        .order_by()
        .values("channel")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def lines_with_unread(access: Access, desk: Desk | None) -> QuerySet[HotlineChannel]:
    """The caller's lines with ``unread`` (messages from other desks ``desk`` has not
    read, among the last ``CONVERSATION_LENGTH`` of the line: the ones its page shows)
    and ``flash_waiting`` (flash messages it has not acknowledged, however old).

    Both cost a bounded read per line, whatever the line's length: ``unread`` walks at
    most ``CONVERSATION_LENGTH`` messages by ``(channel, seq)``, ``flash_waiting`` the
    line's flash messages only (the partial index ``message_flash_by_line``); counting
    every unread message of 10,000-message lines took 20-30 ms per line under load
    (docs/performance.md, "Reads at a regional volume")."""
    channels = channels_visible_to(access)
    if desk is None:
        zero = Value(0, output_field=IntegerField())
        return channels.annotate(unread=zero, flash_waiting=zero).order_by("kind", "name")
    # The line's last messages by (channel, seq) backwards, LIMIT: a bound the planner
    # cannot misjudge (``seq > last_seq - N`` was read as a third of the line).
    shown = Message.objects.filter(channel=OuterRef(OuterRef("pk"))).order_by("-seq")
    return channels.annotate(
        unread=_count_not_done_by(
            desk, done="read_at", pk__in=shown.values("pk")[:CONVERSATION_LENGTH]
        ),
        flash_waiting=_count_not_done_by(desk, done="acknowledged_at", priority=Priority.FLASH),
    ).order_by("kind", "name")


def conversation(
    channel: HotlineChannel, access
) -> tuple[list[Message], dict[int, list[Receipt]], int]:
    """The last messages of a line (oldest first) that their TLP marking lets the caller
    see, their receipts by message id, and the last seq read (shown or withheld)."""
    after = max(0, channel.last_seq - CONVERSATION_LENGTH)
    rows = list(messages_in(channel, after_seq=after).prefetch_related("recipient_desks"))
    messages = [m for m in rows if message_visible_to(access, m)]
    shown = {m.pk for m in messages}
    receipts: dict[int, list[Receipt]] = defaultdict(list)
    for receipt in receipts_of(channel, after_seq=after):
        if receipt.message_id in shown:
            receipts[receipt.message_id].append(receipt)
    return messages, receipts, rows[-1].seq if rows else after
