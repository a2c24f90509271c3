"""Protocol services: publish, immutability, validation, drafts, snapshot."""

import pytest
from django.db import IntegrityError, transaction

from core.errors import Conflict, InvalidInput, PermissionDenied
from crisis.models import (
    ChecklistItem,
    EscalationLevel,
    ProtocolVersion,
    TimelineEntry,
    VersionStatus,
)
from crisis.models.protocols import VersionImmutable
from crisis.services import protocol_rules as rules
from crisis.services import protocols as services
from crisis.snapshot import ProtocolSnapshot
from tests.crisis.factories import (
    CHECKLIST,
    ladder,
    make_author,
    make_draft,
    make_published,
)

pytestmark = pytest.mark.django_db


def test_publish_freezes_the_draft_and_records_it(region, author):
    draft = make_draft(author, levels=ladder(region.desk_a.pk))
    published = services.publish_version(by=author, version=draft)

    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    assert published.published_by == author and published.published_at is not None
    entry = TimelineEntry.objects.get(kind="protocol_version_published")
    assert entry.stream.key == f"protocol:{draft.protocol_id}"
    assert entry.payload == {"version": 1, "retired": None, "levels": 3}
    assert services.published_version_for("maritime") == draft


def test_publishing_a_new_version_retires_the_old_one(author):
    v1 = make_published(author)
    v2 = services.new_draft_from(by=author, version=v1)
    services.publish_version(by=author, version=v2)

    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == (VersionStatus.RETIRED, VersionStatus.PUBLISHED)
    assert v1.retired_at is not None
    assert ProtocolVersion.objects.filter(status=VersionStatus.PUBLISHED).count() == 1
    assert services.published_version_for("maritime") == v2


def test_database_allows_one_published_version_per_protocol(author):
    v1 = make_published(author)
    v2 = services.new_draft_from(by=author, version=v1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProtocolVersion.objects.filter(pk=v2.pk).update(
            status=VersionStatus.PUBLISHED, published_at=v1.published_at
        )


def test_publishing_twice_is_refused(author):
    v1 = make_published(author)
    with pytest.raises(Conflict) as refused:
        services.publish_version(by=author, version=v1)
    assert refused.value.code == "version_not_draft"


def test_one_published_protocol_per_category(author):
    make_published(author, name="Ferry collision")
    other = make_draft(author, name="Oil spill")
    with pytest.raises(Conflict) as refused:
        services.publish_version(by=author, version=other)
    assert refused.value.code == "category_taken"
    assert "Ferry collision" in refused.value.message
    other.refresh_from_db()
    assert other.status == VersionStatus.DRAFT


def test_only_authors_write(region, author):
    draft = make_draft(author)
    for person in (region.operator_a, region.coordinator, region.auditor):
        with pytest.raises(PermissionDenied) as refused:
            services.publish_version(by=person, version=draft)
        assert refused.value.code == "not_protocol_author"
        with pytest.raises(PermissionDenied):
            services.new_draft_from(by=person, version=draft)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    assert ProtocolVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([], "The ladder is empty: add at least one escalation level"),
        (
            [{**ladder()[0], "notify_scopes": [], "notify_desk_ids": []}],
            "Level 1 (Affected operators) notifies nobody",
        ),
        (
            [ladder()[0], {**ladder()[1], "order": 3}],
            "Level orders must run 1, 2, 3 … without gaps: found 1, 3 (missing 2).",
        ),
        (
            [{**ladder()[0], "notify_scopes": ["regional"], "notify_roles": ["operator"]}],
            "the regional centre is staffed by coordinators",
        ),
        (
            [{**ladder()[0], "notify_roles": ["coordinator"]}],
            "coordinators work only at the regional centre",
        ),
    ],
)
def test_invalid_drafts_are_not_published_and_say_what_to_fix(author, levels, expected):
    draft = make_draft(author, levels=levels)
    problems = services.validate_version(draft)
    assert any(expected in p for p in problems), problems
    with pytest.raises(InvalidInput) as refused:
        services.publish_version(by=author, version=draft)
    assert refused.value.code == "protocol_invalid"
    assert refused.value.details["problems"] == problems
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    assert not TimelineEntry.objects.filter(kind="protocol_version_published").exists()


def test_validation_of_dict_levels_covers_timeouts_and_duplicates():
    bad = [{**ladder()[0], "timeout_seconds": 0}, {**ladder()[1], "order": 1}]
    problems = rules.ladder_problems(bad)
    assert "2 levels have order 1: give each level its own place (1, 2, 3 …)." in problems
    assert any("Level 1 (Affected operators): the timeout must be positive" in p for p in problems)


def test_repeat_without_repeats_is_a_problem(author):
    draft = make_draft(author, max_repeats=0)
    assert any("'max repeats' is 0" in p for p in services.validate_version(draft))


def test_new_draft_is_a_deep_copy(region, author):
    v1 = make_published(author, levels=ladder(region.desk_a.pk, region.desk_b.pk), notes="first")
    v2 = services.new_draft_from(by=author, version=v1)

    assert (v2.number, v2.status, v2.created_from, v2.notes) == (2, "draft", v1, "first")
    old, new = services.snapshot_of(v1), services.snapshot_of(v2)
    assert new["levels"] == old["levels"] and new["checklist"] == old["checklist"]
    assert new["levels"][1]["notify_desk_codes"] == ["AAA-DESK", "BBB-DESK"]
    assert not set(v1.levels.values_list("pk", flat=True)) & set(
        v2.levels.values_list("pk", flat=True)
    )
    # Changing the copy leaves the original alone.
    services.update_draft(by=author, version=v2, levels=ladder()[:1], checklist=[])
    assert services.snapshot_of(v1) == old
    assert len(services.snapshot_of(v2)["levels"]) == 1


def test_published_versions_cannot_be_changed_by_services(author):
    v1 = make_published(author)
    with pytest.raises(VersionImmutable) as refused:
        services.update_draft(by=author, version=v1, changes={"notes": "edited"})
    assert refused.value.code == "version_immutable" and refused.value.status == 409
    with pytest.raises(VersionImmutable):
        services.update_draft(by=author, version=v1, levels=ladder()[:1])
    assert (
        services.snapshot_of(v1)["levels"]
        == services.snapshot_of(ProtocolVersion.objects.get(pk=v1.pk))["levels"]
    )
    assert v1.levels.count() == 3


def test_model_guard_refuses_changes_to_published_levels_and_checklist(region, author):
    v1 = make_published(author, levels=ladder(region.desk_a.pk))
    level = v1.levels.get(order=1)
    level.timeout_seconds = 1
    with pytest.raises(VersionImmutable):
        level.save()
    with pytest.raises(VersionImmutable):
        level.delete()
    with pytest.raises(VersionImmutable):
        EscalationLevel.objects.create(
            version=v1, order=9, name="Late", timeout_seconds=60, notify_scopes=["affected"]
        )
    # Django runs m2m changes in the caller's transaction: give each its own savepoint.
    with pytest.raises(VersionImmutable), transaction.atomic():
        v1.levels.get(order=2).notify_desks.add(region.desk_c)
    with pytest.raises(VersionImmutable), transaction.atomic():
        v1.levels.get(order=2).notify_desks.clear()
    item = v1.checklist.first()
    item.title = "changed"
    with pytest.raises(VersionImmutable):
        item.save()
    with pytest.raises(VersionImmutable):
        item.delete()
    with pytest.raises(VersionImmutable):
        ChecklistItem.objects.create(version=v1, order=9, title="Late")
    # Moving a draft's level into a published version is refused too.
    draft = services.new_draft_from(by=author, version=v1)
    moved = draft.levels.get(order=1)
    moved.version = v1
    moved.order = 10
    with pytest.raises(VersionImmutable):
        moved.save()

    v1.notes = "edited"
    with pytest.raises(VersionImmutable):
        v1.save()
    v1.refresh_from_db()
    with pytest.raises(VersionImmutable):
        v1.delete()
    assert v1.levels.get(order=1).timeout_seconds == 600
    assert v1.checklist.count() == len(CHECKLIST)


def test_retire(author):
    v1 = make_published(author)
    services.retire_version(by=author, version=v1)
    v1.refresh_from_db()
    assert v1.status == VersionStatus.RETIRED
    assert services.published_version_for("maritime") is None
    with pytest.raises(Conflict) as refused:
        services.retire_version(by=author, version=v1)
    assert refused.value.code == "version_not_published"
    # A retired version never comes back to life by hand.
    v1.status = VersionStatus.PUBLISHED
    with pytest.raises(VersionImmutable):
        v1.save()


def test_snapshot_has_what_the_crisis_needs(region, author):
    v1 = make_published(author, levels=ladder(region.centre.pk), ack_timeout_seconds=1200)
    snap = services.snapshot_of(v1)
    assert snap["protocol_name"] == "Maritime incident" and snap["version_number"] == 1
    assert (snap["repeat_last_level"], snap["max_repeats"], snap["ack_timeout_seconds"]) == (
        True,
        2,
        1200,
    )
    assert [lv["order"] for lv in snap["levels"]] == [1, 2, 3]
    assert snap["levels"][1]["notify_desk_ids"] == [region.centre.pk]
    assert set(snap["levels"][0]) >= {
        "order",
        "name",
        "timeout_seconds",
        "notify_scopes",
        "notify_roles",
        "notify_desk_ids",
        "actions",
    }
    assert [i["title"] for i in snap["checklist"]] == [i["title"] for i in CHECKLIST]
    import json

    assert json.loads(json.dumps(snap)) == snap


def test_ladder_preview_says_who_is_told_when(author):
    snap = services.snapshot_of(make_draft(author))
    rows = rules.ladder_preview(ProtocolSnapshot.from_dict(snap))
    assert [(r["at"], r["event"], r["level"]) for r in rows] == [
        ("T+0", "notify", 1),
        ("T+10 min", "notify", 2),
        ("T+25 min", "notify", 3),
        ("T+55 min", "repeat", 3),
        ("T+1 h 25 min", "repeat", 3),
        ("T+1 h 55 min", "unanswered", None),
    ]
    assert rows[0]["who"] == "operators at desks of the affected states"
    assert rows[0]["deadline"] == "T+10 min"


@pytest.mark.django_db(transaction=True)
def test_concurrent_publishes_of_one_draft_one_wins(region):
    """Two authors press publish at once: the row locks let exactly one through."""
    import threading

    from django.db import connection

    author = make_author(region.centre)
    draft = make_draft(author)
    barrier, outcomes = threading.Barrier(2), []

    def publish():
        try:
            barrier.wait(timeout=10)
            services.publish_version(by=author, version=draft)
            outcomes.append("published")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["published", "version_not_draft"]
    assert TimelineEntry.objects.filter(kind="protocol_version_published").count() == 1


def test_database_keeps_published_versions_frozen_whatever_writes(region, author):
    v1 = make_published(author, levels=ladder(region.desk_a.pk))
    level = v1.levels.get(order=2)
    through = EscalationLevel.notify_desks.through
    attempts = [
        lambda: ProtocolVersion.objects.filter(pk=v1.pk).update(notes="bulk edit"),
        lambda: ProtocolVersion.objects.filter(pk=v1.pk).update(status=VersionStatus.DRAFT),
        lambda: EscalationLevel.objects.filter(pk=level.pk).update(timeout_seconds=1),
        lambda: ChecklistItem.objects.filter(version=v1).delete(),
        lambda: through.objects.bulk_create(
            [through(escalationlevel_id=level.pk, desk_id=region.desk_c.pk)]
        ),
        lambda: through.objects.filter(escalationlevel_id=level.pk).delete(),
        lambda: region.desk_a.delete(),  # a desk a published ladder names stays
    ]
    for attempt in attempts:
        with pytest.raises(IntegrityError), transaction.atomic():
            attempt()
    assert services.snapshot_of(ProtocolVersion.objects.get(pk=v1.pk)) == services.snapshot_of(v1)


def test_database_lets_drafts_change_and_sources_go(region, author):
    v1 = make_published(author)
    v2 = services.new_draft_from(by=author, version=v1)
    v3 = services.new_draft_from(by=author, version=v2)
    services.publish_version(by=author, version=v3)
    v2.delete()  # the published v3's created_from becomes empty: provenance, not content
    v3.refresh_from_db()
    assert v3.created_from is None and v3.status == VersionStatus.PUBLISHED
    draft = services.new_draft_from(by=author, version=v3)
    assert EscalationLevel.objects.filter(version=draft).update(timeout_seconds=5) == 3
