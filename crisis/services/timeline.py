"""Appending to, anchoring and verifying the hash-chained timeline.

Anchoring (docs/security.md): :func:`create_checkpoint` signs, with an Ed25519 key kept
outside the database (``TIMELINE_SIGNING_KEY_FILE``), the heads of the streams that moved
since the last checkpoint and the transcript chain of every hotline line. Transcripts are
chained here, at checkpoint time, from the models named in
``TIMELINE_ANCHORED_TRANSCRIPTS`` (settings name them, as ``AUTH_USER_MODEL`` is named,
so ``crisis`` does not import ``hotline``). :func:`verify_all` checks the chains, the
checkpoints' signatures, and that every anchored head and transcript is still what was
signed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from crisis.models import Crisis, TimelineEntry, TimelineStream
from crisis.models.timeline import GENESIS_HASH, TimelineCheckpoint
from directory.models import Desk

logger = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class Append:
    """One entry for :func:`record_many`: a crisis's stream, a kind, a payload, and when
    it happened (default: when appended)."""

    crisis: Crisis
    kind: str
    payload: dict | None = None
    at: object = None


def record_many(appends: list[Append]) -> list[TimelineEntry]:
    """Append many entries to their crises' chains in a few statements: lock every
    stream head at once (creating the missing ones), one insert of all the entries, one
    update of the heads. Entries of one stream are chained in the order given; the same
    entries, links and hashes as :func:`record` one by one. Same rules: inside the
    caller's transaction, holding the heads' locks until it ends (taken in key order).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("timeline.record_many() must run inside the action's transaction")
    if not appends:
        return []
    crises = {a.crisis.timeline_stream: a.crisis for a in appends}
    missing = set(crises) - set(
        TimelineStream.objects.filter(key__in=list(crises)).values_list("key", flat=True)
    )
    if missing:
        TimelineStream.objects.bulk_create(
            [TimelineStream(key=key, crisis=crises[key]) for key in sorted(missing)],
            ignore_conflicts=True,
        )
    heads = {
        head.key: head
        for head in TimelineStream.objects.select_for_update()
        .filter(key__in=list(crises))
        .order_by("key")
    }
    entries = []
    for append in appends:
        head = heads[append.crisis.timeline_stream]
        entry = TimelineEntry(
            stream=head,
            seq=head.last_seq + 1,
            crisis=append.crisis,
            kind=append.kind,
            at=append.at or timezone.now(),
            payload=_json_round_trip(append.payload or {}),
            prev_hash=head.last_hash,
        )
        entry.hash = entry.compute_hash(head.key)
        head.last_seq, head.last_hash = entry.seq, entry.hash
        entries.append(entry)
    TimelineEntry.objects.bulk_create(entries)
    TimelineStream.objects.bulk_update(list(heads.values()), ["last_seq", "last_hash"])
    return entries


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


#: {seq: (hash, checkpoint seq)}: what signed checkpoints say one chain held.
Anchors = dict[int, tuple[str, int]]


def verify_stream(stream: TimelineStream, anchors: Anchors | None = None) -> ChainBreak | None:
    """Walk one stream's chain; return the first broken entry, or None if intact.

    With ``anchors`` (from signed checkpoints), an entry whose hash is not the one a
    checkpoint signed is a break too: that is a tail rewritten and re-hashed.
    """
    anchors = anchors or {}
    prev_hash = GENESIS_HASH
    expected_seq = 1
    for entry in stream.entries.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return ChainBreak(stream.key, expected_seq, None, f"entry #{expected_seq} is missing")
        if entry.prev_hash != prev_hash:
            return ChainBreak(stream.key, entry.seq, entry.pk, "previous-hash link does not match")
        if entry.compute_hash(stream.key) != entry.hash:
            return ChainBreak(stream.key, entry.seq, entry.pk, "content does not match its hash")
        if entry.seq in anchors and anchors[entry.seq][0] != entry.hash:
            reason = f"differs from what checkpoint #{anchors[entry.seq][1]} signed"
            return ChainBreak(stream.key, entry.seq, entry.pk, reason)
        prev_hash = entry.hash
        expected_seq += 1
    beyond = [seq for seq in anchors if seq >= expected_seq]
    if beyond:
        seq = min(beyond)
        reason = f"entry #{seq}, signed by checkpoint #{anchors[seq][1]}, is missing"
        return ChainBreak(stream.key, seq, None, reason)
    if expected_seq - 1 != stream.last_seq or prev_hash != stream.last_hash:
        return ChainBreak(stream.key, expected_seq, None, "chain ends before the stream's head")
    return None


def verify_all() -> list[ChainBreak]:
    """Verify every stream, every checkpoint and every anchored transcript.

    One ChainBreak (the first) per broken stream, transcript or checkpoint. Checkpoints
    are checked against ``TIMELINE_VERIFY_KEY_FILE`` when it is set, else against the
    public key stored with each one (which proves nothing against someone who can write
    the database: production sets the verify key).
    """
    checkpoint_breaks, stream_anchors, transcript_anchors = verify_checkpoints()
    breaks = list(checkpoint_breaks)
    seen = set()
    for stream in TimelineStream.objects.order_by("key").iterator():
        seen.add(stream.key)
        found = verify_stream(stream, stream_anchors.get(stream.key))
        if found:
            breaks.append(found)
    for key in sorted(set(stream_anchors) - seen):
        seq = min(stream_anchors[key])
        breaks.append(ChainBreak(key, seq, None, "the stream, signed by a checkpoint, is gone"))
    breaks.extend(verify_transcripts(transcript_anchors))
    return breaks


# --- Anchoring: signed checkpoints ------------------------------------------------------


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder).encode()


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _read_key_file(setting: str) -> bytes | None:
    path = getattr(settings, setting, "") or ""
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(f"{setting}={path} cannot be read: {exc.strerror}") from exc


def signing_key() -> Ed25519PrivateKey | None:
    """The checkpoint signing key (``TIMELINE_SIGNING_KEY_FILE``, PEM), or None if unset."""
    data = _read_key_file("TIMELINE_SIGNING_KEY_FILE")
    if data is None:
        return None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "TIMELINE_SIGNING_KEY_FILE is not an unencrypted PEM private key"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("TIMELINE_SIGNING_KEY_FILE must hold an Ed25519 key")
    return key


def verify_keys() -> dict[str, Ed25519PublicKey] | None:
    """The trusted public keys by key id (``TIMELINE_VERIFY_KEY_FILE``: one or more PEM
    public keys, e.g. the current and the previous one after a rotation), or None."""
    data = _read_key_file("TIMELINE_VERIFY_KEY_FILE")
    if data is None:
        return None
    marker = b"-----BEGIN PUBLIC KEY-----"
    keys = {}
    for block in data.split(marker)[1:]:
        try:
            key = serialization.load_pem_public_key(marker + block)
        except ValueError as exc:
            raise ImproperlyConfigured("TIMELINE_VERIFY_KEY_FILE holds a broken PEM key") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise ImproperlyConfigured("TIMELINE_VERIFY_KEY_FILE must hold Ed25519 keys")
        keys[key_id_of(key)] = key
    if not keys:
        raise ImproperlyConfigured("TIMELINE_VERIFY_KEY_FILE holds no PEM public key")
    return keys


def transcript_link(prev: str, row: dict) -> str:
    """The next link of a transcript chain: SHA-256 of the previous link and the row's
    canonical JSON (also recomputed offline from an exported record, ``records``)."""
    return hashlib.sha256(prev.encode() + _canonical(row)).hexdigest()


def transcript_sources() -> dict[str, dict]:
    """The transcripts anchored by checkpoints (``TIMELINE_ANCHORED_TRANSCRIPTS``)."""
    return getattr(settings, "TIMELINE_ANCHORED_TRANSCRIPTS", {}) or {}


def transcript_rows(source: dict, group_id, after_seq: int):
    model = apps.get_model(source["model"])
    seq_field = source["seq"]
    rows = model.objects.filter(**{source["group_by"]: group_id, f"{seq_field}__gt": after_seq})
    return rows.order_by(seq_field).values(seq_field, *source["fields"]).iterator(chunk_size=2000)


def _anchored_so_far() -> tuple[dict[str, list], dict[str, list], TimelineCheckpoint | None]:
    """The latest signed [seq, hash] per stream and per transcript, and the last checkpoint."""
    streams, transcripts, last = {}, {}, None
    for checkpoint in TimelineCheckpoint.objects.order_by("seq").iterator():
        streams.update(checkpoint.streams)
        transcripts.update(checkpoint.transcripts)
        last = checkpoint
    return streams, transcripts, last


def create_checkpoint() -> TimelineCheckpoint | None:
    """Sign where every chain stands now; None (and a log line) if no key is configured.

    Guarantees: one transaction; the checkpoint pins each stream head that moved since the
    previous checkpoint and the transcript chain of each line that grew since then, follows
    the previous checkpoint (``prev_digest``), and is signed with the key read from
    ``TIMELINE_SIGNING_KEY_FILE``. Safe to run twice: a second run signs only what moved.
    """
    key = signing_key()
    if key is None:
        logger.warning(
            "timeline checkpoint skipped: TIMELINE_SIGNING_KEY_FILE is not set, so the "
            "timeline's hash chains are not anchored (production must set it)"
        )
        return None
    with transaction.atomic():
        # One checkpoint writer at a time: the unique seq would refuse a second anyway.
        anchored_streams, anchored_transcripts, last = _anchored_so_far()
        streams = {
            s.key: [s.last_seq, s.last_hash]
            for s in TimelineStream.objects.only("key", "last_seq", "last_hash").iterator()
            if s.last_seq and anchored_streams.get(s.key, [0])[0] != s.last_seq
        }
        transcripts = {}
        for prefix, source in transcript_sources().items():
            model = apps.get_model(source["model"])
            heads = model.objects.values(source["group_by"]).annotate(top=Max(source["seq"]))
            for head in heads.order_by():
                key_name = f"{prefix}:{head[source['group_by']]}"
                seq, digest = anchored_transcripts.get(key_name, [0, GENESIS_HASH])
                if head["top"] == seq:
                    continue
                for row in transcript_rows(source, head[source["group_by"]], seq):
                    if row[source["seq"]] != seq + 1:
                        break  # anchor only the gapless prefix
                    seq, digest = seq + 1, transcript_link(digest, row)
                transcripts[key_name] = [seq, digest]
        checkpoint = TimelineCheckpoint(
            seq=(last.seq + 1) if last else 1,
            at=timezone.now(),
            prev_digest=last.digest if last else GENESIS_HASH,
            streams=streams,
            transcripts=transcripts,
        )
        checkpoint.digest = checkpoint.compute_digest()
        public = key.public_key()
        checkpoint.signature = base64.b64encode(key.sign(checkpoint.digest.encode())).decode()
        checkpoint.public_key = public.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        ).hex()
        checkpoint.key_id = key_id_of(public)
        checkpoint.save()
    logger.info(
        "timeline checkpoint #%s signed (key %s): %s stream heads, %s transcripts",
        checkpoint.seq,
        checkpoint.key_id,
        len(streams),
        len(transcripts),
    )
    return checkpoint


def _checkpoint_problem(checkpoint: TimelineCheckpoint, trusted) -> str | None:
    if checkpoint.compute_digest() != checkpoint.digest:
        return "its content does not match its digest"
    try:
        stored = Ed25519PublicKey.from_public_bytes(bytes.fromhex(checkpoint.public_key))
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except ValueError:
        return "its public key or signature is malformed"
    if key_id_of(stored) != checkpoint.key_id:
        return "its key id does not match its public key"
    key = stored if trusted is None else trusted.get(checkpoint.key_id)
    if key is None:
        return f"it is signed by key {checkpoint.key_id}, not in TIMELINE_VERIFY_KEY_FILE"
    try:
        key.verify(signature, checkpoint.digest.encode())
    except InvalidSignature:
        return "its signature is not valid"
    return None


def verify_checkpoints() -> tuple[list[ChainBreak], dict[str, Anchors], dict[str, Anchors]]:
    """Check every checkpoint (digest, order, signature); return the breaks and what the
    valid ones anchor, per stream and per transcript."""
    trusted = verify_keys()
    breaks: list[ChainBreak] = []
    streams: dict[str, Anchors] = defaultdict(dict)
    transcripts: dict[str, Anchors] = defaultdict(dict)
    prev = GENESIS_HASH
    expected = 1
    for checkpoint in TimelineCheckpoint.objects.order_by("seq").iterator():
        problem = _checkpoint_problem(checkpoint, trusted)
        if problem is None and (checkpoint.seq != expected or checkpoint.prev_digest != prev):
            problem = "it does not follow the previous checkpoint (one was removed or replaced)"
        if problem:
            breaks.append(ChainBreak("checkpoints", checkpoint.seq, checkpoint.pk, problem))
        else:
            for key, (seq, digest) in checkpoint.streams.items():
                streams[key][seq] = (digest, checkpoint.seq)
            for key, (seq, digest) in checkpoint.transcripts.items():
                transcripts[key][seq] = (digest, checkpoint.seq)
        prev, expected = checkpoint.digest, checkpoint.seq + 1
    return breaks, streams, transcripts


def verify_transcripts(anchors: dict[str, Anchors]) -> list[ChainBreak]:
    """Re-chain each anchored transcript from its first message; a message changed,
    removed or inserted since a checkpoint signed it is a break."""
    breaks = []
    sources = transcript_sources()
    for key_name in sorted(anchors):
        prefix, _, group_id = key_name.partition(":")
        source = sources.get(prefix)
        if source is None:
            breaks.append(ChainBreak(key_name, 0, None, f"no transcript source {prefix!r}"))
            continue
        wanted = anchors[key_name]
        seq, digest, found = 0, GENESIS_HASH, None
        for row in transcript_rows(source, group_id, 0):
            if row[source["seq"]] != seq + 1:
                found = ChainBreak(key_name, seq + 1, None, f"message #{seq + 1} is missing")
                break
            seq, digest = seq + 1, transcript_link(digest, row)
            if seq in wanted and wanted[seq][0] != digest:
                reason = f"differs from what checkpoint #{wanted[seq][1]} signed"
                found = ChainBreak(key_name, seq, None, reason)
                break
            if seq >= max(wanted):
                break
        if found is None and seq < max(wanted):
            found = ChainBreak(key_name, seq + 1, None, f"message #{seq + 1} is missing")
        if found:
            breaks.append(found)
    return breaks
