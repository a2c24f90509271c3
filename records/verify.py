"""Offline checks of an exported crisis record (``manage.py verify_record FILE``).

No database is read: everything is recomputed from the zip. The checks, in order (each
one's proof is in ``docs/records.md``):

1. the manifest is there and of a format we know;
2. every file the manifest lists is in the zip with the SHA-256 and size it states, and
   the zip holds no file the manifest does not list;
3. the timeline chain: entries numbered 1, 2, 3 … in file order, each entry's ``prev``
   is the previous entry's hash, each hash is recomputed from the entry's content, and
   the chain ends at the head the manifest states; ``timeline.csv`` lists the same
   entries with the same hashes;
4. each transcript chain: messages numbered 1, 2, 3 … in file order, each link
   recomputed from the previous link and the message's chained fields (a withheld
   message carries its link, which the next message's link must follow), ending at the
   manifest's head;
5. the manifest's signature (``manifest.sig``): with trusted keys (``--key``), it must
   be there and valid under one of them; without, a signature present is checked
   against the public key it carries (which proves only that the file is intact as
   signed, not who signed it).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crisis.models.timeline import GENESIS_HASH, entry_hash
from crisis.services.timeline import key_id_of, transcript_link
from records.archive import FORMAT, MANIFEST, SIGNATURE

#: The fields of a timeline entry its hash covers (``TimelineEntry.hashed_content``).
HASHED_ENTRY_FIELDS = ("stream", "seq", "kind", "actor", "desk", "at", "payload", "prev")

#: Stop listing after this many problems (an archive rewritten throughout says so early).
MAX_PROBLEMS = 50


@dataclass
class Result:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)


def load_keys(pem: bytes) -> dict[str, Ed25519PublicKey]:
    """Trusted public keys by key id from PEM text (one or more blocks). ValueError if none."""
    marker = b"-----BEGIN PUBLIC KEY-----"
    keys = {}
    for block in pem.split(marker)[1:]:
        key = serialization.load_pem_public_key(marker + block)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the key file must hold Ed25519 public keys")
        keys[key_id_of(key)] = key
    if not keys:
        raise ValueError("the key file holds no PEM public key")
    return keys


def verify_archive(data: bytes, *, keys: dict[str, Ed25519PublicKey] | None = None) -> Result:
    """Run every check on the archive's bytes; the result lists what failed, in words."""
    result = Result()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        result.fail("the file is not a zip archive")
        return result
    with archive:
        names = set(archive.namelist())
        if MANIFEST not in names:
            result.fail(f"{MANIFEST} is missing")
            return result
        manifest_bytes = archive.read(MANIFEST)
        try:
            manifest = json.loads(manifest_bytes)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            result.fail(f"{MANIFEST} is not valid JSON ({exc})")
            return result
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            result.fail(f"{MANIFEST} is not a {FORMAT} manifest")
            return result
        result.manifest = manifest
        contents = _check_files(archive, names, manifest, result)
        chains = manifest.get("chains") or {}
        _check_timeline(contents, chains.get("timeline"), result)
        for key, head in sorted((chains.get("transcripts") or {}).items()):
            _check_transcript(contents, key, head, result)
        _check_signature(archive, names, manifest_bytes, keys, result)
    return result


def _check_files(archive, names: set[str], manifest: dict, result: Result) -> dict[str, bytes]:
    listed = manifest.get("files") or {}
    contents = {}
    for name, expected in sorted(listed.items()):
        if name not in names:
            result.fail(f"{name} is listed in the manifest but missing from the archive")
            continue
        data = archive.read(name)
        digest = hashlib.sha256(data).hexdigest()
        if digest != expected.get("sha256") or len(data) != expected.get("bytes"):
            result.fail(f"{name} was changed: its SHA-256 is not the one in the manifest")
        contents[name] = data
    for name in sorted(names - set(listed) - {MANIFEST, SIGNATURE}):
        result.fail(f"{name} is in the archive but not in the manifest (added)")
    result.checked["files"] = len(contents)
    return contents


def _load(contents: dict[str, bytes], name: str, result: Result):
    if name not in contents:
        result.fail(f"{name}, which holds a chain, is missing")
        return None
    try:
        return json.loads(contents[name])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        result.fail(f"{name} is not valid JSON ({exc})")
        return None


def _check_timeline(contents: dict[str, bytes], head: dict | None, result: Result) -> None:
    if not head:
        result.fail("the manifest states no timeline chain head")
        return
    doc = _load(contents, head.get("file", "timeline.json"), result)
    if doc is None:
        return
    entries = doc.get("entries") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        result.fail("timeline.json holds no list of entries")
        return
    prev, expected = GENESIS_HASH, 1
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            result.fail(f"timeline entry at position {position} is not an object")
            return
        seq = entry.get("seq")
        if seq != expected:
            result.fail(f"timeline {_sequence_break(entries, expected, seq, position)}")
            return
        if entry.get("stream") != head.get("stream"):
            result.fail(
                f"timeline entry #{seq} belongs to another stream ({entry.get('stream')!r})"
            )
            return
        if entry.get("prev") != prev:
            result.fail(
                f"timeline entry #{seq}: its previous-hash link does not match entry #{seq - 1}"
            )
            return
        content = {name: entry.get(name) for name in HASHED_ENTRY_FIELDS}
        if entry_hash(content) != entry.get("hash"):
            result.fail(
                f"timeline entry #{seq} ({entry.get('kind')}): its content does not match its hash"
            )
            return
        prev, expected = entry["hash"], expected + 1
    last = expected - 1
    if last != head.get("seq") or prev != head.get("hash"):
        result.fail(
            f"the timeline chain ends at #{last}, not at the head the manifest states "
            f"(#{head.get('seq')}): entries were removed or added at the end"
        )
        return
    _check_timeline_csv(contents, entries, result)
    result.checked["timeline_entries"] = last


def _sequence_break(rows: list, expected: int, seq, position: int, noun="entry") -> str:
    """Why row ``position`` is not number ``expected``: moved, or missing."""
    later = any(isinstance(r, dict) and r.get("seq") == expected for r in rows[position:])
    if later:
        return (
            f"{noun} #{expected} is out of order: found #{seq} at position {position}, "
            f"#{expected} further on"
        )
    return f"{noun} #{expected} is missing (found #{seq} at position {position})"


def _check_timeline_csv(contents: dict[str, bytes], entries: list, result: Result) -> None:
    if "timeline.csv" not in contents:
        return
    rows = list(csv.DictReader(io.StringIO(contents["timeline.csv"].decode("utf-8-sig"))))
    in_csv = [(row.get("seq"), row.get("hash")) for row in rows]
    in_json = [(str(e["seq"]), e["hash"]) for e in entries]
    if in_csv != in_json:
        result.fail("timeline.csv does not list the same entries as timeline.json")


def _check_transcript(contents: dict[str, bytes], key: str, head: dict, result: Result) -> None:
    doc = _load(contents, head.get("file", ""), result)
    if doc is None:
        return
    messages = doc.get("messages") if isinstance(doc, dict) else None
    fields = head.get("fields") or []
    if not isinstance(messages, list) or not fields:
        result.fail(f"transcript {key}: no list of messages or no chained fields")
        return
    digest, expected = GENESIS_HASH, 1
    for position, message in enumerate(messages, start=1):
        seq = message.get("seq") if isinstance(message, dict) else None
        if seq != expected:
            found = _sequence_break(messages, expected, seq, position, noun="message")
            result.fail(f"transcript {key}: {found}")
            return
        if message.get("withheld"):
            # Not readable by the exporter: its link is taken as stated; the next message's
            # link, and the head, are computed from it, so a changed link still breaks.
            digest = message.get("link")
        else:
            digest = transcript_link(digest, {name: message.get(name) for name in fields})
            if digest != message.get("link"):
                result.fail(
                    f"transcript {key}: message #{seq} was changed (its link does not match)"
                )
                return
        expected += 1
    if expected - 1 != head.get("seq") or digest != head.get("hash"):
        result.fail(
            f"transcript {key}: the chain ends at #{expected - 1}, not at the head the "
            f"manifest states (#{head.get('seq')})"
        )
        return
    result.checked[f"transcript {key}"] = expected - 1


def _check_signature(archive, names, manifest_bytes: bytes, keys, result: Result) -> None:
    if SIGNATURE not in names:
        if keys:
            result.fail("the manifest is not signed (manifest.sig is missing), but a key was given")
        else:
            result.notes.append(
                "The manifest is not signed: the checks prove the archive is consistent, "
                "not who made it. An archive rewritten throughout (every hash and the "
                "manifest recomputed) is only caught by a signature."
            )
        return
    try:
        sig = json.loads(archive.read(SIGNATURE))
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sig["public_key"]))
        signature = base64.b64decode(sig["signature"], validate=True)
    except (ValueError, KeyError, TypeError):
        result.fail("manifest.sig is malformed")
        return
    key_id = sig.get("key_id")
    if key_id_of(public) != key_id:
        result.fail("manifest.sig: its key id does not match its public key")
        return
    if keys is not None:
        if key_id not in keys:
            result.fail(f"the manifest is signed by key {key_id}, which is not a trusted key")
            return
        public = keys[key_id]
    try:
        public.verify(signature, manifest_bytes)
    except InvalidSignature:
        result.fail("the manifest's signature is not valid: the manifest was changed after signing")
        return
    if keys is None:
        result.notes.append(
            f"The manifest's signature (key {key_id}) was checked against the public key "
            "in the archive itself; pass --key with the published verify key to know who "
            "signed it."
        )
    else:
        result.notes.append(f"The manifest is signed by trusted key {key_id}.")
    result.checked["signature"] = 1
