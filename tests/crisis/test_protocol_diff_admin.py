"""Protocol authoring: two versions side by side, and durations in minutes."""

import pytest
from django.urls import reverse

from crisis.admin.protocol_diff import side_by_side, version_lines
from crisis.admin.protocol_forms import TimeoutField, format_timeout
from crisis.models import EscalationLevel
from crisis.services import protocols as services
from tests.crisis.factories import make_published

pytestmark = pytest.mark.django_db


@pytest.fixture
def author_client(client, author):
    client.force_login(author)
    return client


def test_durations_read_and_typed_in_minutes():
    assert [format_timeout(s) for s in (600, 90, 5400, 60, None)] == [
        "10 min",
        "1 min 30 s",
        "90 min",
        "1 min",
        "",
    ]
    field = TimeoutField()
    assert [field.clean(v) for v in ("15", "15 min", "1h 30m", "90s", "1 min 30 s")] == [
        900,
        900,
        5400,
        90,
        90,
    ]
    # What is shown is read back to the same seconds.
    for seconds in (600, 90, 5400):
        assert field.clean(format_timeout(seconds)) == seconds


def test_side_by_side_pairs_changes_and_marks_additions_and_removals():
    rows = side_by_side(["a", "b", "c"], ["a", "B", "c", "d"])
    assert [(r.left, r.right, r.change) for r in rows] == [
        ("a", "a", "same"),
        ("b", "B", "changed"),
        ("c", "c", "same"),
        ("", "d", "added"),
    ]
    assert [r.change for r in side_by_side(["x", "y"], ["x"])] == ["same", "removed"]


def test_the_diff_page_shows_two_versions_side_by_side(author_client, author):
    v1 = make_published(author)
    v2 = services.new_draft_from(by=author, version=v1)
    level = EscalationLevel.objects.get(version=v2, order=2)
    level.timeout_seconds = 1800
    level.save()
    change_page = author_client.get(
        reverse("admin:crisis_protocolversion_change", args=[v2.pk])
    ).content.decode()
    diff_url = reverse("admin:crisis_protocolversion_diff", args=[v2.pk])
    assert diff_url in change_page
    protocol_page = author_client.get(
        reverse("admin:crisis_protocol_change", args=[v1.protocol_id])
    ).content.decode()
    assert diff_url in protocol_page

    page = author_client.get(diff_url).content.decode()
    assert 'id="protocol-diff"' in page
    assert "1 line differs." in page
    old = next(line for line in version_lines(v1) if line.startswith("Level 2"))
    new = next(line for line in version_lines(v2) if line.startswith("Level 2"))
    assert "after 15 min" in old and "after 30 min" in new
    assert '<tr class="changed">' in page
    # Words, not codes: no enum values or seconds in the lines people read.
    for line in version_lines(v2):
        assert "_" not in line.split("“")[0] and " s;" not in line, line


def test_the_ack_timeout_is_typed_in_minutes(author_client, author):
    from tests.crisis.test_protocols_admin import inline_data, level_row

    draft = services.new_draft_from(by=author, version=make_published(author))
    data = inline_data(draft, [level_row(1, "Only", "10", pk=draft.levels.first().pk)])
    data["levels-INITIAL_FORMS"] = "1"
    data["ack_timeout"] = "30"
    for lv in draft.levels.all()[1:]:
        lv.delete()
    response = author_client.post(
        reverse("admin:crisis_protocolversion_change", args=[draft.pk]), data
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.ack_timeout_seconds == 1800
    assert draft.levels.get().timeout_seconds == 600
    page = author_client.get(
        reverse("admin:crisis_protocolversion_change", args=[draft.pk])
    ).content.decode()
    assert 'name="ack_timeout"' in page and 'value="30 min"' in page
