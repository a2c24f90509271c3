"""The append-only, hash-chained timeline.

Entries belong to a *stream* (``crisis:12``, ``channel:5`` …). Each stream is a chain:
an entry stores the hash of the previous entry of its stream and its own hash over its
content, so editing or deleting any entry breaks every later link. The stream row holds
the head of the chain and is locked while appending, which serialises writers of one
stream and nobody else. On PostgreSQL a trigger refuses UPDATE and DELETE of entries.
"""

import hashlib
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from crisis.models.crises import Crisis
from directory.models import Desk

GENESIS_HASH = "0" * 64


def entry_hash(content: dict) -> str:
    """SHA-256 of an entry's hashed content (:meth:`TimelineEntry.hashed_content`),
    canonical JSON: one definition, used by the database chain and by offline checks of an
    exported record (``records``), which have no database."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


class TimelineStream(models.Model):
    key = models.CharField(max_length=64, unique=True)
    crisis = models.OneToOneField(
        Crisis, on_delete=models.PROTECT, null=True, blank=True, related_name="timeline_stream_row"
    )
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return self.key


class AppendOnlyError(Exception):
    pass


class TimelineEntry(models.Model):
    stream = models.ForeignKey(TimelineStream, on_delete=models.PROTECT, related_name="entries")
    seq = models.PositiveBigIntegerField()
    crisis = models.ForeignKey(
        Crisis, on_delete=models.PROTECT, null=True, blank=True, related_name="timeline"
    )
    kind = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    desk = models.ForeignKey(
        Desk, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["stream", "seq"]
        verbose_name_plural = "timeline entries"
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="timeline_seq_unique")
        ]
        indexes = [models.Index(fields=["crisis", "seq"])]

    def __str__(self):
        return f"{self.stream_id}#{self.seq} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_append", False):
            raise AppendOnlyError("Timeline entries are append-only.")
        kwargs.pop("_append", None)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Timeline entries are append-only.")

    def compute_hash(self, stream_key: str) -> str:
        return entry_hash(self.hashed_content(stream_key))

    def hashed_content(self, stream_key: str) -> dict:
        """What the entry's hash covers, as plain JSON values (exports carry it as is)."""
        return {
            "stream": stream_key,
            "seq": self.seq,
            "kind": self.kind,
            "actor": self.actor_id,
            "desk": self.desk_id,
            "at": self.at.isoformat(),
            "payload": self.payload,
            "prev": self.prev_hash,
        }


class TimelineCheckpoint(models.Model):
    """A signed statement of where the chains stood: the anchor of the timeline.

    The hash chain alone is unkeyed: someone with write access to the database can rewrite
    an entry and re-hash every later one. A checkpoint pins, for each stream whose head
    moved since the previous checkpoint, the head's ``[seq, hash]``, and for each hotline
    line the ``[seq, hash]`` of its transcript chain (``TIMELINE_ANCHORED_TRANSCRIPTS``),
    and is signed with an Ed25519 key kept outside the database. Checkpoints chain to each
    other (``prev_digest``), so removing or replacing one is seen too.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    prev_digest = models.CharField(max_length=64)
    streams = models.JSONField(default=dict, help_text="{stream key: [seq, hash]}")
    transcripts = models.JSONField(default=dict, help_text="{line:<id>: [seq, hash]}")
    digest = models.CharField(max_length=64)
    signature = models.CharField(max_length=128, help_text="Ed25519 over the digest, base64.")
    public_key = models.CharField(max_length=64, help_text="The signer's raw public key, hex.")
    key_id = models.CharField(max_length=16, help_text="SHA-256 of the public key, 16 hex.")

    class Meta:
        ordering = ["seq"]

    def __str__(self):
        return f"checkpoint #{self.seq} at {self.at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Timeline checkpoints are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Timeline checkpoints are append-only.")

    def signed_body(self) -> dict:
        """What the digest covers (and so what the signature covers)."""
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "prev": self.prev_digest,
            "streams": self.streams,
            "transcripts": self.transcripts,
        }

    def compute_digest(self) -> str:
        canonical = json.dumps(self.signed_body(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
