"""Appending to and verifying the hash-chained timeline."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from crisis.models import Crisis, TimelineEntry, TimelineStream
from crisis.models.timeline import GENESIS_HASH
from directory.models import Desk


def _stream_for(*, stream: str | None, crisis: Crisis | None) -> TimelineStream:
    key = stream or (crisis.timeline_stream if crisis is not None else None)
    if key is None:
        raise ValueError("record() needs a stream key or a crisis")
    row, _ = TimelineStream.objects.get_or_create(key=key, defaults={"crisis": crisis})
    # Lock the head of the chain: appends to one stream are serialised, others run freely.
    return TimelineStream.objects.select_for_update().get(pk=row.pk)


def record(
    *,
    kind: str,
    crisis: Crisis | None = None,
    stream: str | None = None,
    actor=None,
    desk: Desk | None = None,
    payload: dict | None = None,
) -> TimelineEntry:
    """Append one entry to a stream's chain (``crisis:<id>`` when given a crisis).

    Must run inside the caller's transaction, so the entry commits or rolls back with the
    change it records. Holds the stream's row lock until that transaction ends.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("timeline.record() must run inside the action's transaction")
    head = _stream_for(stream=stream, crisis=crisis)
    entry = TimelineEntry(
        stream=head,
        seq=head.last_seq + 1,
        crisis=crisis if crisis is not None else head.crisis,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        desk=desk,
        at=timezone.now(),
        payload=payload or {},
        prev_hash=head.last_hash,
    )
    # Hash what the database will give back (JSON round trip of the payload).
    entry.payload = _json_round_trip(entry.payload)
    entry.hash = entry.compute_hash(head.key)
    entry.save()
    head.last_seq = entry.seq
    head.last_hash = entry.hash
    head.save(update_fields=["last_seq", "last_hash"])
    return entry


def _json_round_trip(payload: dict) -> dict:
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


@dataclass(frozen=True)
class ChainBreak:
    stream: str
    seq: int
    entry_id: int | None
    reason: str


def verify_stream(stream: TimelineStream) -> ChainBreak | None:
    """Walk one stream's chain; return the first broken entry, or None if intact."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    for entry in stream.entries.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return ChainBreak(stream.key, expected_seq, None, f"entry #{expected_seq} is missing")
        if entry.prev_hash != prev_hash:
            return ChainBreak(stream.key, entry.seq, entry.pk, "previous-hash link does not match")
        if entry.compute_hash(stream.key) != entry.hash:
            return ChainBreak(stream.key, entry.seq, entry.pk, "content does not match its hash")
        prev_hash = entry.hash
        expected_seq += 1
    if expected_seq - 1 != stream.last_seq or prev_hash != stream.last_hash:
        return ChainBreak(stream.key, expected_seq, None, "chain ends before the stream's head")
    return None


def verify_all() -> list[ChainBreak]:
    """Verify every stream; one ChainBreak (the first) per broken stream."""
    breaks = []
    for stream in TimelineStream.objects.order_by("key").iterator():
        found = verify_stream(stream)
        if found:
            breaks.append(found)
    return breaks
