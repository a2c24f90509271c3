"""The per-line sequence: each message of a line gets the next ``seq``, 1, 2, 3 …

Guarantee: within a line, seqs are strictly increasing in commit order, with no gap and
no duplicate, and a client message id is stored at most once per line. Clients rely on
it: a connection that sees seq n+2 after n knows it lost n+1 and re-reads it from the
database (``hotline.ordering``).

Mechanism: the line row's ``last_seq`` is the counter. Claiming a number is an
``UPDATE … SET last_seq = last_seq + 1 … RETURNING``, which holds the line row's lock
until commit, so concurrent senders take numbers one at a time in commit order. On
PostgreSQL the claim and the insert are one statement (one round trip); on SQLite (the
one-machine demo) the ORM does the same under SQLite's serialised writers.

Failure cases it covers: a rolled-back send gives its number back (the counter rolls
back with it), so no gap; a line that is not active, or a sender whose desks are not
members, claims nothing; the same client message id sent twice at once stores one row
and the other caller gets :class:`DuplicateClientMessage` with the stored message.

Both :func:`append_message` callers (sending a message, posting a line check) import it
from here; this module imports no other service.
"""

from __future__ import annotations

import uuid

from django.db import connection
from django.db.models import Min
from django.utils import timezone

from hotline.models import (
    DEFAULT_MESSAGE_TLP,
    ChannelMember,
    ChannelStatus,
    HotlineChannel,
    Message,
    MessageKind,
    Priority,
)


class DuplicateClientMessage(Exception):
    """The client message id is already on the line: ``message`` is the one stored.

    Raised to roll back the caller's transaction; the caller answers with the original.
    """

    def __init__(self, message: Message):
        self.message = message


_CLAIM_FOR_DESK = """
    UPDATE {channels} AS ch SET last_seq = ch.last_seq + 1
    FROM (SELECT min(desk_id) AS desk_id FROM {members}
          WHERE channel_id = %(channel)s AND removed_at IS NULL AND desk_id = ANY(%(desks)s)) AS m
    WHERE ch.id = %(channel)s AND ch.status = 'active' AND m.desk_id IS NOT NULL
    RETURNING ch.last_seq, m.desk_id, ch.exercise
"""
_CLAIM_FOR_SYSTEM = """
    UPDATE {channels} SET last_seq = last_seq + 1
    WHERE id = %(channel)s AND status = 'active'
    RETURNING last_seq, NULL::bigint AS desk_id, exercise
"""
#: Claim the seq and insert in one statement: one round trip, and the line's row is
#: locked for one statement and the commit only.
_APPEND = """
    WITH claim AS ({claim}),
    inserted AS (
        INSERT INTO {messages} (channel_id, seq, kind, sender_id, sender_desk_id, body,
                                priority, client_msg_id, corrects_id, tlp, created_at)
        SELECT %(channel)s, claim.last_seq, %(kind)s, %(sender)s, claim.desk_id, %(body)s,
               %(priority)s, %(client_msg_id)s, %(corrects)s, %(tlp)s, %(now)s
        FROM claim
        ON CONFLICT (channel_id, client_msg_id) DO NOTHING
        RETURNING id
    )
    SELECT claim.last_seq, claim.desk_id, (SELECT id FROM inserted), claim.exercise FROM claim
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
    tlp: str = DEFAULT_MESSAGE_TLP,
) -> Message | None:
    """Give the next seq of an active line to a new message and insert it.

    Assumes it runs inside ``transaction.atomic()``. The ``UPDATE … RETURNING`` takes the
    line row's lock until commit, so seqs are handed out one sender at a time, in commit
    order, and a rolled-back send gives its number back (no gaps). With ``desk_ids`` the
    sender's desk is the first of them that is a current member (system messages pass
    none). Returns None, having written nothing, if the line is not active or none of
    ``desk_ids`` is a member: the caller finds out why. Raises
    :class:`DuplicateClientMessage` (to roll back) if the client message id is already on
    the line. One statement (plus the commit), because every round trip to the database
    is latency.
    """
    message = Message(
        channel_id=channel_id,
        kind=kind,
        sender=sender,
        body=body,
        priority=priority,
        client_msg_id=client_msg_id,
        corrects_id=corrects_id,
        tlp=tlp,
        created_at=timezone.now(),
    )
    if connection.vendor != "postgresql":
        return _append_message_portable(message, desk_ids)
    tables = {
        "channels": HotlineChannel._meta.db_table,
        "members": ChannelMember._meta.db_table,
        "messages": Message._meta.db_table,
    }
    claim = (_CLAIM_FOR_SYSTEM if desk_ids is None else _CLAIM_FOR_DESK).format(**tables)
    values = {"channel": channel_id, "desks": desk_ids, "kind": kind, "body": body,
              "sender": sender.pk if sender else None, "priority": priority,
              "client_msg_id": client_msg_id, "corrects": corrects_id,
              "tlp": tlp, "now": message.created_at}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_APPEND.format(claim=claim, **tables), values)
        row = cursor.fetchone()
    if row is None:
        return None
    seq, desk_id, message_id, exercise = row
    if message_id is None:
        # Under the line's lock, so the other send of this id has committed.
        stored = Message.objects.get(channel_id=channel_id, client_msg_id=client_msg_id)
        raise DuplicateClientMessage(stored)
    message.pk, message.seq, message.sender_desk_id = message_id, seq, desk_id
    message.exercise = exercise  # the line's flag (see hotline.protocol.message_is_exercise)
    return message


def _append_message_portable(message: Message, desk_ids: list[int] | None) -> Message | None:
    """:func:`append_message` for the one-machine demo on SQLite, with the ORM: numbers
    and saves ``message`` (unsaved, without seq or desk).

    Same contract. SQLite has no row locks, but its writers are serialised
    (``BEGIN IMMEDIATE``, see settings), which makes read-then-increment safe there.
    """
    channel_id = message.channel_id
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
    existing = Message.objects.filter(
        channel_id=channel_id, client_msg_id=message.client_msg_id
    ).first()
    if existing is not None:
        raise DuplicateClientMessage(existing)
    message.seq, message.sender_desk_id = channel.last_seq + 1, desk_id
    HotlineChannel.objects.filter(pk=channel_id).update(last_seq=message.seq)
    message.save(force_insert=True)
    message.exercise = channel.exercise  # as on PostgreSQL
    return message
