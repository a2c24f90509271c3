"""The full record of a crisis: exported as a zip by those who may, checked offline by
verify_record, which fails (naming what) on an edited message, a removed or re-ordered
timeline entry, whether or not the forger also fixed the file hashes in the manifest."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile

import pytest
from django.core.management import call_command

from audit.models import ReadRecord
from crisis.models import TimelineEntry
from crisis.models.timeline import entry_hash
from crisis.services.crises import post_situation_update
from crisis.services.timeline import transcript_link
from hotline.services.channels import add_member, open_crisis_room
from hotline.services.messages import send_message
from records import sections
from records.verify import verify_archive
from tests.humanitarian.conftest import make_crisis, make_pledge, make_request
from tests.security.test_timeline_anchor import write_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/crises/{}/record/"


@pytest.fixture
def crisis(region):
    crisis = make_crisis(region)
    post_situation_update(
        by=region.operator_a, desk=region.desk_a, crisis=crisis, conditions="Ferry capsized."
    )
    make_pledge(region, make_request(region, crisis, quantity=10), quantity=4)
    room = open_crisis_room(
        by=region.coordinator,
        name="CR-2026-0100 room",
        desk_ids=[region.desk_a.pk],
        crisis_ref=crisis.reference,
    )
    for body, tlp in (("Ten missing.", "AMBER"), ("Divers on the way.", "AMBER"),
                      ("For A and the centre only.", "RED")):  # fmt: skip
        send_message(
            by=region.operator_a, channel_id=room.pk, body=body, client_msg_id=uuid.uuid4(), tlp=tlp
        )
    # B joins later: the RED message, sent before, is not B's to read.
    add_member(by=region.coordinator, channel_id=room.pk, desk_id=region.desk_b.pk)
    return crisis


def export(api_client, user, crisis) -> bytes:
    api_client.force_authenticate(user)
    response = api_client.get(URL.format(crisis.pk))
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/zip"
    return response.content


def verify_file(tmp_path, data: bytes, *extra) -> tuple[int, str, str]:
    path = tmp_path / "record.zip"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_record", str(path), *extra, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def read(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes], *, fix_manifest: bool = False) -> bytes:
    """The archive with ``files``; with ``fix_manifest``, the manifest's file hashes are
    recomputed too (a forger who knows the format)."""
    if fix_manifest:
        manifest = json.loads(files["manifest.json"])
        for name in manifest["files"]:
            manifest["files"][name] = {
                "sha256": hashlib.sha256(files[name]).hexdigest(),
                "bytes": len(files[name]),
            }
        files = {**files, "manifest.json": json.dumps(manifest).encode()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def edit_json(files, name, change) -> dict[str, bytes]:
    doc = json.loads(files[name])
    change(doc)
    return {**files, name: json.dumps(doc, indent=2, sort_keys=True).encode()}


def transcript_name(files) -> str:
    return next(n for n in files if n.startswith("transcripts/") and n.endswith(".json"))


# --- the export --------------------------------------------------------------------------


def test_the_record_holds_every_part_and_verifies(
    region, crisis, api_client, tmp_path, django_assert_num_queries
):
    data = export(api_client, region.operator_b, crisis)
    with django_assert_num_queries(0):  # offline: the zip alone
        assert verify_archive(data).ok
    files = read(data)
    manifest = json.loads(files["manifest.json"])
    for name in ("timeline.json", "timeline.csv", "crisis.json", "tasks.csv",
                 "situation_updates.json", "situation_updates.csv", "cap_alerts.json",
                 "sitreps.json", "aid/requests.json", "aid/requests.csv", "aid/pledges.csv",
                 "paging/notifications.json", "paging/attempts.csv", "report.html"):  # fmt: skip
        assert name in files and name in manifest["files"], name
    assert manifest["crisis"]["reference"] == crisis.reference
    assert manifest["exercise"] is False and "generated_at" in manifest
    assert manifest["generator"].startswith("crisis-hotline")
    entries = json.loads(files["timeline.json"])["entries"]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert manifest["chains"]["timeline"] == {
        "stream": f"crisis:{crisis.pk}", "file": "timeline.json",
        "seq": len(entries), "hash": entries[-1]["hash"],
    }  # fmt: skip
    assert TimelineEntry.objects.filter(crisis=crisis).count() == len(entries)
    rows = list(csv.DictReader(io.StringIO(files["timeline.csv"].decode("utf-8-sig"))))
    assert [r["hash"] for r in rows] == [e["hash"] for e in entries]
    # B joined the room after the RED message: withheld, its chain link kept.
    messages = json.loads(files[transcript_name(files)])["messages"]
    assert [m.get("body") for m in messages] == ["Ten missing.", "Divers on the way.", None]
    assert messages[2] == {"seq": 3, "withheld": True, "link": messages[2]["link"]}
    assert list(manifest["withheld"].values()) == [1]
    report = files["report.html"].decode()
    assert "@media print" in report and "Ferry capsized." in report and "EXERCISE" not in report
    assert "Divers on the way." in report and "For A and the centre only." not in report

    code, out, err = verify_file(tmp_path, data)
    assert code == 0, err
    assert "complete and untampered" in out and "not signed" in out
    assert ReadRecord.objects.filter(what="records.export", object_id=str(crisis.pk)).count() == 1


def test_who_may_export(region, crisis, api_client):
    for user in (region.operator_b, region.coordinator, region.auditor):
        assert export(api_client, user, crisis)[:2] == b"PK"
    api_client.force_authenticate(region.operator_c)  # not party, does not see it
    assert api_client.get(URL.format(crisis.pk)).status_code == 404
    api_client.force_authenticate(None)
    assert api_client.get(URL.format(crisis.pk)).status_code in (401, 403)
    api_client.force_authenticate(region.operator_a)
    missing = api_client.get(URL.format(987654))
    assert missing.status_code == 404 and missing.json()["code"]
    assert api_client.get(URL.format(2**70)).status_code == 404


def test_a_state_that_reported_but_is_not_party_is_refused_with_a_reason(region, api_client):
    crisis = make_crisis(region, ref="CR-2026-0200", supporting=[])
    crisis.affected_states.set([region.state_b])
    crisis.participants.all().delete()
    crisis.participants.create(desk=region.desk_b, role="lead")
    api_client.force_authenticate(region.operator_a)  # A reported it: sees it, not a party
    refused = api_client.get(URL.format(crisis.pk))
    assert refused.status_code == 403 and refused.json()["code"] == "not_a_party"


def test_an_exercise_record_is_marked(region, api_client, tmp_path):
    crisis = make_crisis(region, ref="CR-2026-0300", exercise=True)  # a drill from the start
    crisis.refresh_from_db()
    api_client.force_authenticate(region.operator_a)
    response = api_client.get(URL.format(crisis.pk))
    assert "EXERCISE-record-" in response["Content-Disposition"]
    files = read(response.content)
    assert json.loads(files["manifest.json"])["exercise"] is True
    assert "EXERCISE EXERCISE EXERCISE" in files["report.html"].decode()
    code, out, _ = verify_file(tmp_path, response.content)
    assert code == 0 and "(EXERCISE)" in out


def test_registered_sections_are_in_the_record(region, crisis, api_client):
    sections.register("review", lambda c: {"crisis": c.reference, "went_well": "Comms"})
    sections.register("scoped", lambda c, access: [{"desks": len(access.desk_ids)}])
    try:
        files = read(export(api_client, region.operator_a, crisis))
    finally:
        sections.unregister("review")
        sections.unregister("scoped")
    assert json.loads(files["sections/review.json"]) == {
        "crisis": crisis.reference, "went_well": "Comms",
    }  # fmt: skip
    assert json.loads(files["manifest.json"])["sections"] == ["review", "scoped"]
    assert json.loads(files["sections/scoped.json"]) == [{"desks": 1}]
    assert "sections/scoped.csv" in files
    assert "Comms" in files["report.html"].decode()


# --- tampering ----------------------------------------------------------------------------


@pytest.mark.parametrize("fix_manifest", [False, True], ids=["naive", "manifest-fixed"])
def test_an_edited_message_fails(region, crisis, api_client, tmp_path, fix_manifest):
    files = read(export(api_client, region.operator_b, crisis))
    name = transcript_name(files)

    def change(doc):
        doc["messages"][0]["body"] = "Nobody missing."

    code, _, err = verify_file(
        tmp_path, rezip(edit_json(files, name, change), fix_manifest=fix_manifest)
    )
    assert code == 1
    if fix_manifest:
        assert "message #1 was changed" in err
    else:
        assert f"{name} was changed" in err


@pytest.mark.parametrize("fix_manifest", [False, True], ids=["naive", "manifest-fixed"])
def test_a_removed_timeline_entry_fails(region, crisis, api_client, tmp_path, fix_manifest):
    files = read(export(api_client, region.operator_a, crisis))

    def remove(doc):
        del doc["entries"][1]

    edited = rezip(edit_json(files, "timeline.json", remove), fix_manifest=fix_manifest)
    code, _, err = verify_file(tmp_path, edited)
    assert code == 1
    assert (
        ("timeline entry #2 is missing" in err)
        if fix_manifest
        else ("timeline.json was changed" in err)
    )


def test_a_removed_last_entry_fails_on_the_head(region, crisis, api_client, tmp_path):
    files = read(export(api_client, region.operator_a, crisis))
    edited = rezip(
        edit_json(files, "timeline.json", lambda d: d["entries"].pop()), fix_manifest=True
    )
    code, _, err = verify_file(tmp_path, edited)
    assert code == 1 and "not at the head the manifest states" in err


@pytest.mark.parametrize("fix_manifest", [False, True], ids=["naive", "manifest-fixed"])
def test_a_reordered_timeline_entry_fails(region, crisis, api_client, tmp_path, fix_manifest):
    files = read(export(api_client, region.operator_a, crisis))

    def swap(doc):
        doc["entries"][0], doc["entries"][1] = doc["entries"][1], doc["entries"][0]

    edited = rezip(edit_json(files, "timeline.json", swap), fix_manifest=fix_manifest)
    code, _, err = verify_file(tmp_path, edited)
    assert code == 1
    assert (
        ("timeline entry #1 is out of order" in err)
        if fix_manifest
        else ("timeline.json was changed" in err)
    )


def test_an_added_file_fails(region, crisis, api_client, tmp_path):
    files = read(export(api_client, region.operator_a, crisis))
    code, _, err = verify_file(tmp_path, rezip({**files, "extra.txt": b"hello"}))
    assert code == 1 and "extra.txt is in the archive but not in the manifest" in err


def rechain(files) -> dict[str, bytes]:
    """A forger who rewrites message #1 and re-hashes everything after it: the chains
    recompute and the manifest's heads and file hashes are fixed to match."""
    name = transcript_name(files)
    doc = json.loads(files[name])
    manifest = json.loads(files["manifest.json"])
    head = manifest["chains"]["transcripts"][doc["key"]]
    digest = "0" * 64
    doc["messages"][0]["body"] = "Nobody missing."
    for message in doc["messages"]:
        if message.get("withheld"):
            digest = message["link"] = hashlib.sha256(digest.encode() + b"x").hexdigest()
        else:
            digest = message["link"] = transcript_link(
                digest, {f: message[f] for f in head["fields"]}
            )
    head["hash"] = digest
    files = {**files, name: json.dumps(doc).encode()}
    for n in manifest["files"]:
        manifest["files"][n] = {
            "sha256": hashlib.sha256(files[n]).hexdigest(),
            "bytes": len(files[n]),
        }
    return {**files, "manifest.json": json.dumps(manifest).encode()}


def test_a_fully_rehashed_forgery_is_caught_by_the_signature_only(
    region, crisis, api_client, tmp_path, settings
):
    private, public = write_key(tmp_path)
    settings.TIMELINE_SIGNING_KEY_FILE = private
    data = export(api_client, region.operator_b, crisis)
    assert "manifest.sig" in read(data)
    code, out, err = verify_file(tmp_path, data, "--key", public)
    assert code == 0, err
    assert "signed by trusted key" in out

    forged = rezip(rechain(read(data)))
    code, _, err = verify_file(tmp_path, forged, "--key", public)
    assert code == 1 and "signature is not valid" in err
    # Without the signature the forgery is consistent: only a key tells it apart.
    unsigned = {k: v for k, v in read(forged).items() if k != "manifest.sig"}
    assert verify_archive(rezip(unsigned)).ok
    code, _, err = verify_file(tmp_path, rezip(unsigned), "--key", public)
    assert code == 1 and "not signed" in err
    _, other_public = write_key(tmp_path, "other")
    code, _, err = verify_file(tmp_path, data, "--key", other_public)
    assert code == 1 and "not a trusted key" in err


def test_timeline_hashes_in_the_record_are_the_databases(region, crisis, api_client):
    entries = json.loads(read(export(api_client, region.operator_a, crisis))["timeline.json"])[
        "entries"
    ]
    for entry in entries:
        content = {
            k: entry[k] for k in ("stream", "seq", "kind", "actor", "desk", "at", "payload", "prev")
        }
        assert entry_hash(content) == entry["hash"]
        assert TimelineEntry.objects.get(crisis=crisis, seq=entry["seq"]).hash == entry["hash"]


def test_verify_record_on_junk(tmp_path):
    code, _, err = verify_file(tmp_path, b"not a zip")
    assert code == 1 and "not a zip archive" in err
    code, _, err = verify_file(tmp_path, rezip({"a.txt": b"x"}))
    assert code == 1 and "manifest.json is missing" in err


def test_the_chain_heads_are_those_a_signed_checkpoint_pins(
    region, crisis, api_client, tmp_path, settings
):
    """The archive's transcript and timeline heads are the values the live anchoring
    signs: the same chains, computed the same way."""
    from crisis.services.timeline import create_checkpoint

    private, _ = write_key(tmp_path)
    settings.TIMELINE_SIGNING_KEY_FILE = private
    checkpoint = create_checkpoint()
    manifest = json.loads(read(export(api_client, region.coordinator, crisis))["manifest.json"])
    chains = manifest["chains"]
    for key, head in chains["transcripts"].items():
        assert checkpoint.transcripts[key] == [head["seq"], head["hash"]]
    timeline_head = chains["timeline"]
    assert checkpoint.streams[timeline_head["stream"]] == [
        timeline_head["seq"],
        timeline_head["hash"],
    ]


def test_csv_cells_never_run_as_formulas(region, crisis, api_client):
    post_situation_update(
        by=region.operator_a, desk=region.desk_a, crisis=crisis, conditions="=HYPERLINK(1)"
    )
    files = read(export(api_client, region.operator_a, crisis))
    rows = list(csv.DictReader(io.StringIO(files["situation_updates.csv"].decode("utf-8-sig"))))
    assert "'=HYPERLINK(1)" in [r["conditions"] for r in rows]
    exact = json.loads(files["situation_updates.json"])
    assert "=HYPERLINK(1)" in [u["conditions"] for u in exact]


def test_the_crisis_page_offers_the_record_to_those_who_may_export(region, crisis):
    from django.test import Client

    for user in (region.operator_a, region.auditor):
        client = Client()
        client.force_login(user)
        html = client.get(f"/crises/{crisis.pk}/").content.decode()
        assert 'id="record-panel"' in html and URL.format(crisis.pk) in html, user
    other = make_crisis(region, ref="CR-2026-0500", supporting=[])
    other.affected_states.set([region.state_b])
    other.participants.all().delete()
    other.participants.create(desk=region.desk_b, role="lead")
    client = Client()
    client.force_login(region.operator_a)  # A reported it, is not party: no button
    page = client.get(f"/crises/{other.pk}/")
    assert page.status_code == 200 and 'id="record-panel"' not in page.content.decode()
