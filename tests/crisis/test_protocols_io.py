"""Protocol files: exact round trip (YAML and JSON), bad files refused naming the field."""

import json

import pytest
import yaml
from django.core.management import call_command

from core.errors import InvalidInput, PermissionDenied
from crisis import protocol_io
from crisis.models import Protocol, ProtocolVersion, VersionStatus
from crisis.services import protocols as services
from tests.crisis.factories import (
    ladder,
    make_published,
)

pytestmark = pytest.mark.django_db


TRICKY = "Line one: colon, 'quotes', \"double\"\n  indented line\n\nyes\n# not a comment\n"


@pytest.fixture
def published(region, author):
    levels = ladder(region.desk_b.pk, region.centre.pk)
    levels[0]["timeout_seconds"] = 90  # not whole minutes: exported in seconds
    checklist = [
        {
            "order": 1,
            "party_role": "lead",
            "title": "yes",  # would be a boolean if written bare in YAML
            "description": TRICKY,
            "due_after_minutes": 0,
        },
        {
            "order": 2,
            "party_role": "observer",
            "title": "Ünïcode — ครบ",
            "description": "",
            "due_after_minutes": 60,
        },
    ]
    version = make_published(
        author, levels=levels, checklist=checklist, notes="v1\nsecond line", ack_timeout_seconds=7
    )
    Protocol.objects.filter(pk=version.protocol_id).update(description="Multi\nline: description")
    return ProtocolVersion.objects.select_related("protocol").get(pk=version.pk)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_import_export_is_byte_identical(published, author, fmt):
    text = protocol_io.export_version(published, fmt)
    draft = protocol_io.import_version(by=author, data=text.encode(), fmt=fmt)

    assert (draft.protocol_id, draft.number, draft.status) == (published.protocol_id, 2, "draft")
    assert protocol_io.export_version(draft, fmt) == text
    old, new = services.snapshot_of(published), services.snapshot_of(draft)
    for key in ("levels", "checklist", "repeat_last_level", "max_repeats", "ack_timeout_seconds"):
        assert new[key] == old[key], key
    assert draft.notes == published.notes


def test_yaml_and_json_say_the_same(published):
    as_yaml = yaml.safe_load(protocol_io.export_version(published, "yaml"))
    as_json = json.loads(protocol_io.export_version(published, "json"))
    assert as_yaml == as_json == protocol_io.document_of(published)
    level = as_yaml["version"]["levels"]
    assert level[0]["timeout_seconds"] == 90 and "timeout_minutes" not in level[0]
    assert level[1]["timeout_minutes"] == 15
    assert level[1]["notify_desks"] == ["BBB-DESK", "RCC"]
    assert "number" not in as_yaml["version"] and "status" not in as_yaml["version"]


def test_import_of_a_new_protocol_creates_it_with_draft_v1(published, author):
    document = protocol_io.document_of(published)
    document["protocol"]["name"] = "Oil spill"
    draft = protocol_io.import_version(by=author, data=json.dumps(document), fmt="json")
    assert draft.protocol.name == "Oil spill" and draft.number == 1
    assert draft.status == VersionStatus.DRAFT
    assert draft.protocol.description == "Multi\nline: description"


def test_file_format_is_guessed_from_name_or_content(published, author):
    text = protocol_io.export_version(published, "json")
    assert protocol_io.import_version(by=author, data=text, filename="x.json").number == 2
    assert protocol_io.import_version(by=author, data=text).number == 3  # sniffed


def doc_with(published, path: str, value):
    document = protocol_io.document_of(published)
    target = document
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is KeyError:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return yaml.safe_dump(document)


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        ("format", "other/2", "format", "must be 'crisis-protocol/1'"),
        ("protocol.category", "volcanoes", "protocol.category", "unknown category"),
        ("protocol.name", "", "protocol.name", "must not be empty"),
        ("version.levels.1.timeout_minutes", 0, "version.levels[1].timeout_minutes", "positive"),
        ("version.levels.1.timeout_minutes", "ten", "version.levels[1].timeout_minutes", "ten"),
        ("version.levels.1.order", 1, "version.levels[1].order", "used twice"),
        ("version.levels.1.order", 40000, "version.levels[1].order", "at most 999"),
        ("version.levels.1.timeout_minutes", 10**9, "version.levels[1].timeout_minutes", "at most"),
        ("version.max_repeats", 10**6, "version.max_repeats", "at most 100"),
        ("version.levels.1.notify_scopes", ["galaxy"], "version.levels[1].notify_scopes", "galaxy"),
        ("version.levels.1.notify_roles", ["auditor"], "version.levels[1].notify_roles", "auditor"),
        ("version.levels.1.notify_desks", ["NOPE"], "version.levels[1].notify_desks", "'NOPE'"),
        ("version.levels.1.actions", ["launch"], "version.levels[1].actions", "launch"),
        ("version.levels.1.colour", "red", "version.levels[1].colour", "not a known field"),
        ("version.levels.1.name", KeyError, "version.levels[1].name", "is missing"),
        ("version.levels", "all", "version.levels", "must be a list"),
        ("version.repeat_last_level", "sometimes", "version.repeat_last_level", "true or false"),
        ("version.checklist.0.party_role", "boss", "version.checklist[0].party_role", "boss"),
        ("version.checklist.1.due_after_minutes", -5, "version.checklist[1].due_after_minutes", ""),
    ],
)
def test_bad_field_is_refused_naming_it(published, author, path, value, field, words):
    before = ProtocolVersion.objects.count()
    with pytest.raises(InvalidInput) as refused:
        protocol_io.import_version(by=author, data=doc_with(published, path, value), fmt="yaml")
    assert refused.value.code == "bad_protocol_file"
    assert refused.value.details["field"] == field
    assert refused.value.message.startswith(f"{field}:")
    assert words in refused.value.message
    assert ProtocolVersion.objects.count() == before


def test_both_timeouts_in_one_level_is_refused(published, author):
    text = doc_with(published, "version.levels.1.timeout_seconds", 900)
    with pytest.raises(InvalidInput) as refused:
        protocol_io.import_version(by=author, data=text, fmt="yaml")
    assert "exactly one of timeout_minutes or timeout_seconds" in refused.value.message


@pytest.mark.parametrize(
    ("data", "fmt", "words"),
    [
        ("format: [unclosed", "yaml", "not valid YAML: line 1"),
        ('{"format": ', "json", "not valid JSON: line 1"),
        ("- just\n- a list\n", "yaml", "one mapping"),
        (b"\xff\xfe\x00bad", "yaml", "not UTF-8"),
        ("{}", "xml", "Unknown file format"),
    ],
)
def test_unreadable_files_are_refused(author, data, fmt, words):
    with pytest.raises(InvalidInput) as refused:
        protocol_io.import_version(by=author, data=data, fmt=fmt)
    assert words in refused.value.message
    assert not Protocol.objects.exists()


def test_category_of_an_existing_protocol_is_not_changed_by_a_file(published, author):
    text = doc_with(published, "protocol.category", "flood")
    with pytest.raises(InvalidInput) as refused:
        protocol_io.import_version(by=author, data=text, fmt="yaml")
    assert refused.value.details["field"] == "protocol.category"
    assert ProtocolVersion.objects.count() == 1


def test_only_authors_import(region, published):
    text = protocol_io.export_version(published)
    with pytest.raises(PermissionDenied):
        protocol_io.import_version(by=region.coordinator, data=text)
    assert ProtocolVersion.objects.count() == 1


def test_demo_seed_is_idempotent_and_publishes_realistic_protocols():
    call_command("seed_demo")
    first = sorted(
        (v.protocol.name, v.number, v.status, protocol_io.export_version(v))
        for v in ProtocolVersion.objects.select_related("protocol")
    )
    call_command("seed_demo")
    second = sorted(
        (v.protocol.name, v.number, v.status, protocol_io.export_version(v))
        for v in ProtocolVersion.objects.select_related("protocol")
    )
    assert first == second
    names = {name for name, _, status, _ in first if status == "published"}
    assert {
        "Maritime incident",
        "Earthquake and tsunami",
        "Refugee influx",
        "Cross-border cyber attack",
    } <= names
    for category in ("maritime", "earthquake", "refugee", "cyber"):
        version = services.published_version_for(category)
        assert services.validate_version(version) == []
        snap = services.snapshot_of(version)
        assert len(snap["levels"]) >= 3 and snap["repeat_last_level"]
        assert {i["party_role"] for i in snap["checklist"]} >= {"affected", "lead"}
    from django.contrib.auth import get_user_model

    coordinator = get_user_model().objects.get(username="coordinator")
    assert coordinator.has_perm("crisis.author_protocol")


def test_the_example_in_the_docs_imports_and_is_publishable(region, author):
    import re
    from pathlib import Path

    from tests.factories import make_desk

    make_desk(None, code="AHA")
    docs = Path(__file__).resolve().parents[2] / "docs" / "protocols.md"
    example = re.search(r"```yaml\n(.*?)```", docs.read_text(), re.S).group(1)
    draft = protocol_io.import_version(by=author, data=example, fmt="yaml")
    assert services.validate_version(draft) == []
    assert services.snapshot_of(draft)["levels"][2]["notify_desk_codes"] == ["AHA"]
