"""The full record of one crisis as a zip that can be checked offline (``verify_record``).

Guarantee: the archive holds, as read in one REPEATABLE READ snapshot, the crisis's
timeline (every entry of its ``crisis:<id>`` stream, with the fields its hash covers),
the transcript of each crisis room (the chain ``create_checkpoint`` anchors, rebuilt
link by link), the CAP alerts byte for byte, situation updates, sitreps, aid (requests,
pledges, shelters, displacement), the paging log and the sections other apps register
(``records.sections``). ``manifest.json`` lists every file with its SHA-256 and the head
of every chain; when ``TIMELINE_SIGNING_KEY_FILE`` is set, ``manifest.sig`` signs the
manifest's exact bytes with it (Ed25519). What the exporter may not read (a TLP:RED
message they are not a recipient of) stays out, but its chain link stays in, so the
chain still verifies: the manifest counts what was withheld.

The layout and what each check proves are in ``docs/records.md``.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from core.disclosure import is_narrow, may_see
from crisis.models import Crisis, TimelineEntry, TimelineStream
from crisis.models.notifications import Notification
from crisis.models.timeline import GENESIS_HASH
from crisis.selectors import updates_of
from crisis.services.escalation import page_subject_prefix
from crisis.services.timeline import key_id_of, signing_key, transcript_link, transcript_sources
from hotline.models import ChannelKind, HotlineChannel, Message
from humanitarian.selectors import (
    displacement_visible_to,
    pledges_visible_to,
    requests_visible_to,
    shelters_visible_to,
    situation_reports_visible_to,
)
from humanitarian.services.exports import safe_cell
from paging.models import DeliveryAttempt, Page
from records import sections

#: The archive's layout version (``manifest.json`` ``format``); verify_record knows it.
FORMAT = "crisis-record/1"
GENERATOR = "crisis-hotline records 1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"

#: The transcript source this archive chains (``TIMELINE_ANCHORED_TRANSCRIPTS``).
TRANSCRIPT_PREFIX = "line"


def _plain(value):
    """JSON-safe: what json.dumps(DjangoJSONEncoder) would write, read back."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _rows(objects, *, exclude: tuple[str, ...] = (), more=None) -> list[dict]:
    """Every concrete field of each object (foreign keys as ids), JSON-safe."""
    out = []
    for obj in objects:
        row = {
            f.attname: getattr(obj, f.attname)
            for f in obj._meta.concrete_fields
            if f.name not in exclude and f.attname not in exclude
        }
        if more:
            row.update(more(obj))
        out.append(row)
    return _plain(out)


def _csv(rows: list[dict]) -> bytes:
    """Rows as CSV (UTF-8 with a BOM for spreadsheets); nested values as JSON; text that a
    spreadsheet would run as a formula gets a leading apostrophe (the JSON twin is exact)."""
    buffer = io.StringIO()
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    writer = csv.DictWriter(buffer, fieldnames=columns or ["empty"], extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else safe_cell(v)
                for k, v in row.items()
            }
        )
    return ("\ufeff" + buffer.getvalue()).encode()


def _json(value) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def mask_address(address: str) -> str:
    """A contact address with its middle hidden (``+66•••4567``, ``j•••@example.org``):
    enough to tell which method was used, not enough to reach the person."""
    if not address:
        return ""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"
    return f"{address[:3]}•••{address[-4:]}" if len(address) > 7 else "•••"


@dataclass
class Record:
    """What one export read, and the files it writes."""

    crisis: Crisis
    generated_at: datetime
    files: dict[str, bytes] = field(default_factory=dict)
    chains: dict = field(default_factory=dict)
    withheld: dict[str, int] = field(default_factory=dict)
    report: dict = field(default_factory=dict)

    def add(self, name: str, data: bytes) -> None:
        self.files[name] = data

    def add_table(self, stem: str, rows: list[dict]) -> None:
        self.add(f"{stem}.json", _json(rows))
        self.add(f"{stem}.csv", _csv(rows))


# --- the parts --------------------------------------------------------------------------


def _timeline(record: Record) -> None:
    crisis = record.crisis
    stream = TimelineStream.objects.filter(key=crisis.timeline_stream).first()
    head_seq, head_hash = (stream.last_seq, stream.last_hash) if stream else (0, GENESIS_HASH)
    entries = (
        TimelineEntry.objects.filter(stream=stream, seq__lte=head_seq)
        .select_related("actor", "desk")
        .order_by("seq")
        if stream
        else TimelineEntry.objects.none()
    )
    rows, readable = [], []
    for entry in entries.iterator(chunk_size=2000):
        hashed = entry.hashed_content(crisis.timeline_stream)
        rows.append(
            {
                **hashed,
                "hash": entry.hash,
                "actor_name": entry.actor.get_username() if entry.actor else "",
                "desk_code": entry.desk.code if entry.desk else "",
            }
        )
        readable.append(entry)
    rows = _plain(rows)
    record.add("timeline.json", _json({"stream": crisis.timeline_stream, "entries": rows}))
    record.add("timeline.csv", _csv(rows))
    record.chains["timeline"] = {
        "stream": crisis.timeline_stream,
        "file": "timeline.json",
        "seq": head_seq,
        "hash": head_hash,
    }
    record.report["timeline"] = readable


def _transcripts(record: Record, access) -> None:
    source = transcript_sources().get(TRANSCRIPT_PREFIX)
    if source is None:  # a deployment without anchored transcripts: plain transcripts only
        source = {"seq": "seq", "fields": ["kind", "sender_id", "sender_desk_id", "body"]}
    fields = source["fields"]
    lines = HotlineChannel.objects.filter(
        kind=ChannelKind.CRISIS_ROOM, crisis_ref=record.crisis.reference
    ).order_by("pk")
    record.chains["transcripts"] = {}
    record.report["transcripts"] = []
    for line in lines:
        key = f"{TRANSCRIPT_PREFIX}:{line.pk}"
        messages = (
            Message.objects.filter(channel=line)
            .select_related("sender", "sender_desk")
            .prefetch_related("recipient_desks")
            .order_by("seq")
        )
        digest, seq, rows, shown, withheld = GENESIS_HASH, 0, [], [], 0
        for message in messages:
            chained = _plain({"seq": message.seq, **{f: getattr(message, f) for f in fields}})
            digest, seq = transcript_link(digest, chained), message.seq
            recipients = (
                [(d.pk, d.state_id) for d in message.recipient_desks.all()]
                if is_narrow(message.tlp)
                else ()
            )
            if not may_see(access, tlp=message.tlp, recipients=recipients):
                rows.append({"seq": message.seq, "withheld": True, "link": digest})
                withheld += 1
                continue
            rows.append(
                {
                    **chained,
                    "link": digest,
                    "tlp": message.tlp,
                    "sender_name": message.sender.get_username() if message.sender else "",
                    "desk_code": message.sender_desk.code if message.sender_desk else "",
                }
            )
            shown.append(message)
        name = f"transcripts/line-{line.pk}"
        record.add(
            f"{name}.json",
            _json({"line": line.pk, "name": line.name, "key": key, "messages": rows}),
        )
        record.add(f"{name}.csv", _csv(rows))
        record.chains["transcripts"][key] = {
            "file": f"{name}.json",
            "fields": ["seq", *fields],
            "seq": seq,
            "hash": digest,
        }
        if withheld:
            record.withheld[key] = withheld
        record.report["transcripts"].append({"line": line, "messages": shown, "withheld": withheld})


def _cap_alerts(record: Record) -> None:
    alerts = list(record.crisis.cap_alerts.order_by("sent_at", "pk"))
    rows = _rows(alerts, exclude=("raw_xml", "parsed"))
    for row, alert in zip(rows, alerts, strict=True):
        name = f"cap/{alert.pk}-{alert.direction}.xml"
        row["file"] = name
        record.add(name, alert.raw_xml.encode())
    record.add_table("cap_alerts", rows)
    record.report["cap_alerts"] = alerts


def _crisis(record: Record) -> None:
    crisis = record.crisis
    row = _rows([crisis], exclude=("protocol_snapshot",))[0]
    row["affected_states"] = sorted(crisis.affected_states.values_list("code", flat=True))
    participants = list(crisis.participants.select_related("desk").order_by("role", "desk__code"))
    tasks = list(
        crisis.tasks.select_related("desk", "done_by").order_by("desk__code", "item_order")
    )
    acks = list(crisis.acknowledgements.select_related("desk").order_by("acknowledged_at"))
    record.add(
        "crisis.json",
        _json(
            {
                "crisis": row,
                "protocol_snapshot": _plain(crisis.protocol_snapshot),
                "participants": _rows(participants, more=lambda p: {"desk_code": p.desk.code}),
                "acknowledgements": _rows(acks, more=lambda a: {"desk_code": a.desk.code}),
            }
        ),
    )
    record.add_table("tasks", _rows(tasks, more=lambda t: {"desk_code": t.desk.code}))
    record.report.update(participants=participants, tasks=tasks, acknowledgements=acks)


def _updates_and_sitreps(record: Record, access) -> None:
    updates = list(updates_of(access, record.crisis).order_by("posted_at", "pk"))
    withheld = record.crisis.situation_updates.count() - len(updates)
    if withheld:
        record.withheld["situation_updates"] = withheld
    record.add_table(
        "situation_updates",
        _rows(updates, more=lambda u: {"desk_code": u.desk.code, "author_name": u.author.username}),
    )
    sitreps = list(
        situation_reports_visible_to(access).filter(crisis=record.crisis).order_by("report_date")
    )
    record.add_table("sitreps", _rows(sitreps))
    for sitrep in sitreps:
        record.add(f"sitreps/{sitrep.report_date.isoformat()}.txt", sitrep.text.encode())
    record.report.update(updates=updates, sitreps=sitreps)


def _aid(record: Record, access) -> None:
    crisis = record.crisis
    requests_ = list(requests_visible_to(access).filter(crisis=crisis).order_by("pk"))
    pledges = list(pledges_visible_to(access).filter(crisis=crisis).order_by("pk"))
    shelters = list(shelters_visible_to(access).filter(crisis=crisis).order_by("pk"))
    displacement = list(displacement_visible_to(access).filter(crisis=crisis).order_by("pk"))
    record.add_table("aid/requests", _rows(requests_))
    record.add_table("aid/pledges", _rows(pledges))
    record.add_table("aid/shelters", _rows(shelters))
    record.add_table("aid/displacement", _rows(displacement))
    record.report.update(requests=requests_, pledges=pledges, shelters=shelters)


def _paging(record: Record) -> None:
    crisis = record.crisis
    notifications = list(
        Notification.objects.filter(crisis=crisis).select_related("desk").order_by("created_at")
    )
    pages = list(
        Page.objects.filter(subject_key__startswith=page_subject_prefix(crisis))
        .select_related("desk")
        .order_by("created_at", "pk")
    )
    attempts = list(
        DeliveryAttempt.objects.filter(page__in=pages)
        .select_related("recipient__user")
        .order_by("page_id", "due_at", "pk")
    )
    record.add_table(
        "paging/notifications",
        _rows(notifications, more=lambda n: {"desk_code": n.desk.code}),
    )
    record.add_table(
        "paging/pages",
        _rows(pages, exclude=("payload",), more=lambda p: {"desk_code": p.desk.code}),
    )
    record.add_table(
        "paging/attempts",
        _rows(
            attempts,
            exclude=("payload", "address", "last_error", "provider_id"),
            more=lambda a: {
                "address": mask_address(a.address),
                "person": a.recipient.user.get_username() if a.recipient else "",
            },
        ),
    )
    record.report.update(notifications=notifications, pages=pages, attempts=attempts)


def _sections(record: Record, access) -> None:
    record.report["sections"] = []
    for name, fn in sections.registered().items():
        data = sections.build(fn, record.crisis, access)
        if data is None:
            continue
        data = _plain(data)
        record.add(f"sections/{name}.json", _json(data))
        if isinstance(data, list) and all(isinstance(row, dict) for row in data):
            record.add(f"sections/{name}.csv", _csv(data))
        record.report["sections"].append({"name": name, "data": data})


# --- the whole ---------------------------------------------------------------------------


def collect(*, crisis: Crisis, access) -> Record:
    """Read everything of the record in one consistent snapshot (REPEATABLE READ), so a
    message or entry committed while the export runs is either wholly in or wholly out."""
    record = Record(crisis=crisis, generated_at=timezone.now())
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        _crisis(record)
        _timeline(record)
        _transcripts(record, access)
        _cap_alerts(record)
        _updates_and_sitreps(record, access)
        _aid(record, access)
        _paging(record)
        _sections(record, access)
    return record


def manifest_for(record: Record, *, by: str, desk=None) -> dict:
    crisis = record.crisis
    return {
        "format": FORMAT,
        "generator": GENERATOR,
        "generated_at": record.generated_at.astimezone(UTC).isoformat(),
        "generated_by": {"user": by, "desk": desk.code if desk else ""},
        "crisis": {
            "id": crisis.pk,
            "reference": crisis.reference,
            "title": crisis.title,
            "status": crisis.status,
            "exercise": crisis.exercise,
        },
        "exercise": crisis.exercise,
        "chains": record.chains,
        "withheld": record.withheld,
        "sections": [s["name"] for s in record.report.get("sections", [])],
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in sorted(record.files.items())
        },
    }


def sign_manifest(manifest_bytes: bytes) -> bytes | None:
    """``manifest.sig`` (JSON: algorithm, key id, public key, signature) or None unkeyed."""
    key = signing_key()
    if key is None:
        return None
    public = key.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _json(
        {
            "algorithm": "Ed25519",
            "signed": MANIFEST,
            "key_id": key_id_of(public),
            "public_key": raw.hex(),
            "signature": base64.b64encode(key.sign(manifest_bytes)).decode(),
        }
    )


def build_archive(*, crisis: Crisis, access, user, desk=None) -> tuple[bytes, Record]:
    """The record of ``crisis`` as zip bytes, read as ``access`` may (see module doc).

    Callers check who may export (``records.services.export_record``); this only reads.
    """
    record = collect(crisis=crisis, access=access)
    username = user.get_username() if user is not None else ""
    language = getattr(desk, "language", "") or translation.get_language()
    with translation.override(language):
        record.add(
            "report.html",
            render_to_string(
                "records/report.html",
                {"r": record.report, "crisis": crisis, "desk": desk, "record": record,
                 "generated_by": username, "language": translation.get_language()},
            ).encode(),
        )  # fmt: skip
    manifest = manifest_for(record, by=username, desk=desk)
    manifest_bytes = _json(manifest)
    signature = sign_manifest(manifest_bytes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest_bytes)
        if signature is not None:
            archive.writestr(SIGNATURE, signature)
        for name, data in sorted(record.files.items()):
            archive.writestr(name, data)
    return buffer.getvalue(), record
