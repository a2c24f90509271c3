"""Anchoring the timeline: a signed daily checkpoint makes a rewritten and re-hashed tail,
a forged checkpoint and an edited hotline transcript visible to verify_timeline."""

from __future__ import annotations

import base64
import logging
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from crisis.models import TimelineEntry, TimelineStream
from crisis.models.timeline import AppendOnlyError, TimelineCheckpoint
from crisis.services import timeline
from crisis.tasks import checkpoint_timeline
from hotline.models import Message
from hotline.services.channels import set_up_bilateral_channel
from hotline.services.messages import send_message

pytestmark = pytest.mark.django_db


def write_key(directory, name="timeline") -> tuple[str, str]:
    """A fresh Ed25519 key pair as PEM files under ``directory``: (private, public)."""
    key = Ed25519PrivateKey.generate()
    private = directory / f"{name}-signing.pem"
    public = directory / f"{name}-verify.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return str(private), str(public)


@pytest.fixture
def keys(tmp_path, settings):
    private, public = write_key(tmp_path)
    settings.TIMELINE_SIGNING_KEY_FILE = private
    settings.TIMELINE_VERIFY_KEY_FILE = public
    return private, public


def append(n: int, stream: str = "test:1"):
    with transaction.atomic():
        for i in range(n):
            timeline.record(stream=stream, kind="note", payload={"i": i})


def without_triggers(table: str):
    """What an attacker with database access does first (rolled back with the test)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending deferred checks
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")


def rewrite_and_rehash(stream_key: str, seq: int, payload: dict):
    """Change entry ``seq`` and re-hash it and every later entry and the head: the chain
    alone then verifies."""
    without_triggers("crisis_timelineentry")
    stream = TimelineStream.objects.get(key=stream_key)
    prev = None
    for entry in stream.entries.order_by("seq"):
        if entry.seq == seq:
            entry.payload = payload
        if entry.seq >= seq:
            if prev is not None:
                entry.prev_hash = prev
            entry.hash = entry.compute_hash(stream_key)
            TimelineEntry.objects.filter(pk=entry.pk).update(
                payload=entry.payload, prev_hash=entry.prev_hash, hash=entry.hash
            )
        prev = entry.hash
    TimelineStream.objects.filter(pk=stream.pk).update(last_hash=prev)


def reasons() -> list[tuple[str, int, str]]:
    return [(b.stream, b.seq, b.reason) for b in timeline.verify_all()]


# --- without a key ---------------------------------------------------------------------


def test_without_a_key_checkpoints_are_skipped_with_a_clear_log_line(settings, caplog):
    settings.TIMELINE_SIGNING_KEY_FILE = ""
    append(3)
    with caplog.at_level(logging.WARNING, logger="crisis.services.timeline"):
        assert timeline.create_checkpoint() is None
    assert "TIMELINE_SIGNING_KEY_FILE is not set" in caplog.text
    assert TimelineCheckpoint.objects.count() == 0
    assert timeline.verify_all() == []  # the chain itself is still verified


def test_the_command_says_it_skipped(settings, capsys):
    settings.TIMELINE_SIGNING_KEY_FILE = ""
    call_command("checkpoint_timeline")
    assert "Skipped: TIMELINE_SIGNING_KEY_FILE is not set" in capsys.readouterr().err


def test_a_missing_key_file_is_a_clear_error(settings, tmp_path):
    settings.TIMELINE_SIGNING_KEY_FILE = str(tmp_path / "nowhere.pem")
    with pytest.raises(CommandError, match=r"TIMELINE_SIGNING_KEY_FILE=.*cannot be read"):
        call_command("checkpoint_timeline")


def test_a_key_of_the_wrong_kind_is_refused(settings, tmp_path):
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a key")
    settings.TIMELINE_SIGNING_KEY_FILE = str(bogus)
    with pytest.raises(CommandError, match="not an unencrypted PEM private key"):
        call_command("checkpoint_timeline")


# --- signing and verifying -------------------------------------------------------------


def test_checkpoint_signs_the_heads_and_verifies(keys, capsys):
    append(3)
    append(2, stream="test:2")
    checkpoint = timeline.create_checkpoint()
    heads = {s.key: [s.last_seq, s.last_hash] for s in TimelineStream.objects.all()}
    assert checkpoint.streams == heads and checkpoint.seq == 1
    call_command("verify_timeline")
    out = capsys.readouterr().out
    assert "All 2 timeline streams intact (5 entries); 1 signed checkpoint(s) valid." in out
    assert "TIMELINE_VERIFY_KEY_FILE is not set" not in out


def test_a_second_run_signs_only_what_moved(keys):
    append(3)
    append(1, stream="test:2")
    first = timeline.create_checkpoint()
    assert timeline.create_checkpoint().streams == {}
    append(1, stream="test:2")
    third = timeline.create_checkpoint()
    assert list(third.streams) == ["test:2"] and third.streams["test:2"][0] == 2
    assert third.prev_digest != first.digest  # it follows the second one
    assert timeline.verify_all() == []


def test_a_rewritten_and_rehashed_tail_before_a_checkpoint_fails(keys):
    append(5)
    timeline.create_checkpoint()
    rewrite_and_rehash("test:1", 3, {"i": 99, "forged": True})
    # The unkeyed chain alone cannot see it: that is what the checkpoint is for.
    assert timeline.verify_stream(TimelineStream.objects.get(key="test:1")) is None
    assert reasons() == [("test:1", 5, "differs from what checkpoint #1 signed")]
    with pytest.raises(SystemExit) as exited:
        call_command("verify_timeline")
    assert exited.value.code == 1


def test_a_truncated_tail_fails(keys):
    append(4)
    timeline.create_checkpoint()
    without_triggers("crisis_timelineentry")
    TimelineEntry.objects.filter(stream__key="test:1", seq=4).delete()
    stream = TimelineStream.objects.get(key="test:1")
    third = stream.entries.get(seq=3)
    TimelineStream.objects.filter(pk=stream.pk).update(last_seq=3, last_hash=third.hash)
    assert reasons() == [("test:1", 4, "entry #4, signed by checkpoint #1, is missing")]


def test_entries_appended_after_the_checkpoint_still_verify(keys):
    append(2)
    timeline.create_checkpoint()
    append(3)
    assert timeline.verify_all() == []


# --- forged checkpoints ----------------------------------------------------------------


def test_a_checkpoint_with_edited_content_fails(keys):
    append(2)
    checkpoint = timeline.create_checkpoint()
    without_triggers("crisis_timelinecheckpoint")
    TimelineCheckpoint.objects.filter(pk=checkpoint.pk).update(streams={"test:1": [1, "0" * 64]})
    assert reasons() == [("checkpoints", 1, "its content does not match its digest")]


def test_a_checkpoint_with_a_bad_signature_fails(keys):
    append(2)
    checkpoint = timeline.create_checkpoint()
    without_triggers("crisis_timelinecheckpoint")
    other = Ed25519PrivateKey.generate().sign(checkpoint.digest.encode())
    TimelineCheckpoint.objects.filter(pk=checkpoint.pk).update(
        signature=base64.b64encode(other).decode()
    )
    assert reasons() == [("checkpoints", 1, "its signature is not valid")]


def test_a_checkpoint_re_signed_with_another_key_fails_against_the_verify_key(
    keys, tmp_path, settings
):
    """Someone with database access rewrites the tail and signs a fresh checkpoint with a
    key of their own: its stored public key matches, the configured verify key does not."""
    append(3)
    rogue_private, _ = write_key(tmp_path, "rogue")
    settings.TIMELINE_SIGNING_KEY_FILE = rogue_private
    rogue = timeline.create_checkpoint()
    found = reasons()
    assert found == [
        ("checkpoints", 1, f"it is signed by key {rogue.key_id}, not in TIMELINE_VERIFY_KEY_FILE")
    ]
    settings.TIMELINE_VERIFY_KEY_FILE = ""  # without a verify key this proves nothing
    assert timeline.verify_all() == []


def test_the_verify_key_file_may_hold_an_old_and_a_new_key(keys, tmp_path, settings):
    append(1)
    timeline.create_checkpoint()
    new_private, new_public = write_key(tmp_path, "new")
    settings.TIMELINE_SIGNING_KEY_FILE = new_private
    append(1)
    timeline.create_checkpoint()
    both = tmp_path / "both.pem"
    both.write_bytes(Path(keys[1]).read_bytes() + Path(new_public).read_bytes())
    settings.TIMELINE_VERIFY_KEY_FILE = str(both)
    assert timeline.verify_all() == []
    settings.TIMELINE_VERIFY_KEY_FILE = new_public
    assert [r[:2] for r in reasons()] == [("checkpoints", 1)]


def test_a_removed_checkpoint_is_seen(keys):
    append(1)
    first = timeline.create_checkpoint()
    append(1)
    timeline.create_checkpoint()
    without_triggers("crisis_timelinecheckpoint")
    TimelineCheckpoint.objects.filter(pk=first.pk).delete()
    assert reasons() == [
        (
            "checkpoints",
            2,
            "it does not follow the previous checkpoint (one was removed or replaced)",
        )
    ]


def test_checkpoints_are_append_only(keys):
    append(1)
    checkpoint = timeline.create_checkpoint()
    with pytest.raises(AppendOnlyError):
        checkpoint.save()
    with pytest.raises(AppendOnlyError):
        checkpoint.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TimelineCheckpoint.objects.filter(pk=checkpoint.pk).update(signature="x")


# --- hotline transcripts ---------------------------------------------------------------


@pytest.fixture
def line(region):
    line = set_up_bilateral_channel(
        by=region.coordinator, desk_id=region.desk_a.pk, peer_desk_id=region.desk_b.pk
    )
    for text in ("first", "second", "third"):
        send_message(
            by=region.operator_a, channel_id=line.pk, body=text, client_msg_id=uuid.uuid4()
        )
    return line


def test_transcripts_are_chained_into_the_checkpoint(keys, line, region):
    checkpoint = timeline.create_checkpoint()
    assert checkpoint.transcripts[f"line:{line.pk}"][0] == 3
    send_message(
        by=region.operator_b, channel_id=line.pk, body="fourth", client_msg_id=uuid.uuid4()
    )
    second = timeline.create_checkpoint()
    assert second.transcripts[f"line:{line.pk}"][0] == 4  # continued, not restarted
    assert timeline.verify_all() == []


def test_an_edited_message_after_a_checkpoint_fails(keys, line):
    timeline.create_checkpoint()
    Message.objects.filter(channel=line, seq=2).update(body="we never said that")
    # Seen at the first point the checkpoint signed at or after the edit (its head, #3).
    assert reasons() == [(f"line:{line.pk}", 3, "differs from what checkpoint #1 signed")]


def test_a_deleted_message_after_a_checkpoint_fails(keys, line):
    timeline.create_checkpoint()
    Message.objects.filter(channel=line, seq=3).delete()
    assert reasons() == [(f"line:{line.pk}", 3, "message #3 is missing")]


# --- beat ------------------------------------------------------------------------------


def test_beat_runs_the_checkpoint_daily(keys, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["timeline-checkpoint"]
    assert entry["task"] == "crisis.tasks.checkpoint_timeline"
    assert entry["schedule"].hour == {0} and entry["schedule"].minute == {20}
    append(1)
    assert checkpoint_timeline.apply().get() == 1  # the task, run in this process
