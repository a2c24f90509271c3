"""The admin as the authoring tool: authors edit drafts; published is read-only; others view."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crisis import protocol_io
from crisis.models import EscalationLevel, Protocol, ProtocolVersion, TimelineEntry, VersionStatus
from crisis.services import protocols as services
from tests.crisis.factories import (
    ladder,
    make_draft,
    make_published,
)
from tests.factories import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def author_client(client, author):
    client.force_login(author)
    return client


@pytest.fixture
def viewer_client(client, region):
    """Staff without the author permission."""
    viewer = make_person(region.centre, "coordinator", username="viewer", is_staff=True)
    client.force_login(viewer)
    return client


def url(name, *args):
    return reverse(f"admin:crisis_{name}", args=args)


def inline_data(version, levels, items=()):
    """POST data for the version change form with its two inlines."""
    data = {
        "notes": version.notes,
        "repeat_last_level": "on",
        "max_repeats": "2",
        "ack_timeout_seconds": "",
        "levels-TOTAL_FORMS": str(len(levels)),
        "levels-INITIAL_FORMS": str(sum(1 for lv in levels if lv.get("id"))),
        "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "1000",
        "checklist-TOTAL_FORMS": str(len(items)),
        "checklist-INITIAL_FORMS": str(sum(1 for i in items if i.get("id"))),
        "checklist-MIN_NUM_FORMS": "0",
        "checklist-MAX_NUM_FORMS": "1000",
    }
    for i, level in enumerate(levels):
        for key, value in level.items():
            data[f"levels-{i}-{key}"] = value
        data[f"levels-{i}-version"] = version.pk
    for i, item in enumerate(items):
        for key, value in item.items():
            data[f"checklist-{i}-{key}"] = value
        data[f"checklist-{i}-version"] = version.pk
    return data


def level_row(order, name, timeout, scopes=("affected",), roles=("operator",), pk=None):
    row = {
        "order": str(order),
        "name": name,
        "timeout": timeout,
        "notify_scopes": list(scopes),
        "notify_roles": list(roles),
    }
    if pk:
        row["id"] = str(pk)
    return row


def test_author_pages_render(author_client, author):
    draft = make_draft(author)
    published = make_published(author, name="Quake", category="earthquake")
    for page in [
        url("protocol_changelist"),
        url("protocol_change", draft.protocol_id),
        url("protocol_add"),
        url("protocolversion_changelist"),
        url("protocolversion_change", draft.pk),
        url("protocolversion_change", published.pk),
        url("protocolversion_preview", published.pk),
        url("protocolversion_publish", draft.pk),
        url("protocolversion_new_draft", published.pk),
        url("protocolversion_import"),
    ]:
        response = author_client.get(page)
        assert response.status_code == 200, page
    changelist = author_client.get(url("protocolversion_changelist")).content.decode()
    assert "Import from file" in changelist


def test_draft_change_view_has_editable_inlines_and_tools(author_client, author):
    draft = make_draft(author)
    page = author_client.get(url("protocolversion_change", draft.pk)).content.decode()
    assert 'name="levels-0-timeout"' in page and 'value="10 min"' in page
    assert 'name="checklist-0-title"' in page
    assert "Publish…" in page and "New draft from this version" in page
    assert 'id="ladder-preview"' in page and "T+25 min" in page


def test_published_version_is_read_only_with_preview(author_client, author):
    published = make_published(author)
    page = author_client.get(url("protocolversion_change", published.pk)).content.decode()
    assert 'name="levels-0-timeout"' not in page and 'name="notes"' not in page
    assert 'id="read-only-note"' in page and "Publish…" not in page
    assert "operators at desks of the affected states" in page  # the read-only ladder
    assert "T+55 min" in page

    data = inline_data(published, [level_row(1, "Changed", "1m", pk=published.levels.first().pk)])
    response = author_client.post(url("protocolversion_change", published.pk), data)
    assert response.status_code == 403
    assert published.levels.get(order=1).name == "Affected operators"


def test_author_edits_a_draft_with_minutes_and_seconds(author_client, author):
    draft = make_draft(author, levels=[], checklist=[])
    levels = [
        level_row(1, "Affected operators", "15m"),
        level_row(2, "Supervisors", "90s", roles=("supervisor",)),
        level_row(3, "Everyone", "1h 30m", scopes=("regional", "all_states"), roles=()),
    ]
    items = [{"order": "1", "party_role": "all", "title": "Report", "due_after_minutes": "30"}]
    response = author_client.post(
        url("protocolversion_change", draft.pk), inline_data(draft, levels, items)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(draft.levels.order_by("order").values_list("timeout_seconds", flat=True)) == [
        900,
        90,
        5400,
    ]
    assert draft.checklist.get().title == "Report"
    assert services.validate_version(draft) == []


def test_author_can_swap_level_orders(author_client, author):
    draft = make_draft(author, levels=ladder()[:2], checklist=[])
    first, second = draft.levels.order_by("order")
    levels = [
        level_row(2, first.name, "10m", pk=first.pk),
        level_row(1, second.name, "15m", roles=("supervisor",), pk=second.pk),
    ]
    response = author_client.post(
        url("protocolversion_change", draft.pk), inline_data(draft, levels)
    )
    assert response.status_code == 302
    assert list(draft.levels.order_by("order").values_list("name", flat=True)) == [
        "Affected supervisors",
        "Affected operators",
    ]


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        (
            [level_row(1, "A", "10m"), level_row(1, "B", "10m")],
            "2 levels have order 1: give each level its own place",
        ),
        ([level_row(1, "A", "0m")], "The timeout must be positive"),
        ([level_row(1, "A", "-5")], "The timeout must be positive"),
        ([level_row(1, "A", "soon")], "Write the timeout in minutes"),
        ([level_row(1, "A", "1000h")], "The timeout must be at most 30 days."),
        ([level_row(1, "A", "10m", scopes=(), roles=())], "notifies nobody"),
    ],
)
def test_admin_validation_says_what_to_fix(author_client, author, levels, message):
    draft = make_draft(author, levels=[], checklist=[])
    response = author_client.post(
        url("protocolversion_change", draft.pk), inline_data(draft, levels)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not draft.levels.exists()


def test_empty_ladder_is_explained_on_the_draft_and_publish_is_refused(author_client, author):
    draft = make_draft(author, levels=[], checklist=[])
    page = author_client.get(url("protocolversion_change", draft.pk)).content.decode()
    assert "Not ready to publish" in page and "The ladder is empty" in page
    response = author_client.post(url("protocolversion_publish", draft.pk), follow=True)
    assert "The ladder is empty" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_publish_and_new_draft_through_the_admin(author_client, author):
    v1 = make_published(author)
    response = author_client.post(url("protocolversion_new_draft", v1.pk))
    v2 = ProtocolVersion.objects.get(number=2)
    assert response.status_code == 302 and response["Location"] == url(
        "protocolversion_change", v2.pk
    )
    confirm = author_client.get(url("protocolversion_publish", v2.pk)).content.decode()
    assert "The published v1 will be retired" in confirm
    response = author_client.post(url("protocolversion_publish", v2.pk))
    assert response.status_code == 302
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == ("retired", "published")


def test_admin_actions_flash_in_the_authors_language(author_client, author):
    draft = make_draft(author)
    changelist = url("protocolversion_changelist")
    page = author_client.get(changelist, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Ban hành bản nháp đã chọn" in page  # the action's name in the list
    response = author_client.post(
        changelist, {"action": "publish_selected", "_selected_action": [draft.pk]},
        follow=True, HTTP_ACCEPT_LANGUAGE="vi",
    )  # fmt: skip
    page = response.content.decode()
    assert f"Đã ban hành {draft.protocol.name} v1." in page
    assert f"Published {draft.protocol.name} v1." not in page
    response = author_client.post(
        changelist, {"action": "new_draft_from_selected", "_selected_action": [draft.pk]},
        follow=True, HTTP_ACCEPT_LANGUAGE="vi",
    )  # fmt: skip
    new = ProtocolVersion.objects.get(created_from=draft)
    assert f'Đã tạo <a href="{url("protocolversion_change", new.pk)}">' in response.content.decode()


def test_changelist_actions(author_client, author):
    draft = make_draft(author)
    changelist = url("protocolversion_changelist")
    author_client.post(changelist, {"action": "publish_selected", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    author_client.post(
        changelist, {"action": "new_draft_from_selected", "_selected_action": [draft.pk]}
    )
    assert ProtocolVersion.objects.filter(status="draft", created_from=draft).exists()
    response = author_client.post(
        changelist, {"action": "export_json", "_selected_action": [draft.pk]}
    )
    assert response["Content-Disposition"] == 'attachment; filename="maritime-incident-v1.json"'
    assert response.content.decode() == protocol_io.export_version(draft, "json")


def test_export_and_import_through_the_admin(author_client, author):
    published = make_published(author)
    response = author_client.get(url("protocolversion_export", published.pk) + "?as=yaml")
    assert response["Content-Type"].startswith("application/yaml")
    text = response.content.decode()

    upload = SimpleUploadedFile("maritime.yaml", text.encode(), content_type="application/yaml")
    response = author_client.post(url("protocolversion_import"), {"file": upload})
    draft = ProtocolVersion.objects.get(number=2)
    assert response.status_code == 302
    assert protocol_io.export_version(draft) == text


def test_import_of_a_bad_file_shows_the_field(author_client, author):
    published = make_published(author)
    text = protocol_io.export_version(published).replace(
        "timeout_minutes: 15", "timeout_minutes: 0"
    )
    upload = SimpleUploadedFile("bad.yaml", text.encode())
    response = author_client.post(url("protocolversion_import"), {"file": upload})
    assert response.status_code == 400
    assert "version.levels[1].timeout_minutes: must be a positive whole number" in (
        response.content.decode()
    )
    assert ProtocolVersion.objects.count() == 1


def test_adding_a_protocol_makes_draft_v1(author_client, author):
    response = author_client.post(
        url("protocol_add"),
        {
            "name": "Typhoon",
            "category": "storm",
            "description": "",
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
        },
    )
    protocol = Protocol.objects.get(name="Typhoon")
    assert list(protocol.versions.values_list("number", "status")) == [(1, "draft")]
    draft = protocol.versions.get()
    assert response.status_code == 302
    assert response["Location"] == url("protocolversion_change", draft.pk)
    assert TimelineEntry.objects.get(kind="protocol_created").actor == author


def test_non_author_staff_view_only(viewer_client, author):
    draft = make_draft(author)
    published = make_published(author, name="Quake", category="earthquake")
    for page in [
        url("protocol_changelist"),
        url("protocolversion_changelist"),
        url("protocolversion_change", draft.pk),
        url("protocolversion_change", published.pk),
        url("protocolversion_preview", published.pk),
        url("protocolversion_export", published.pk),
    ]:
        assert viewer_client.get(page).status_code == 200, page
    page = viewer_client.get(url("protocolversion_change", draft.pk)).content.decode()
    assert 'name="levels-0-timeout"' not in page and "Publish…" not in page
    assert (
        "Import from file"
        not in viewer_client.get(url("protocolversion_changelist")).content.decode()
    )
    for page in [
        url("protocol_add"),
        url("protocolversion_publish", draft.pk),
        url("protocolversion_new_draft", published.pk),
        url("protocolversion_import"),
    ]:
        assert viewer_client.get(page).status_code == 403, page
    assert viewer_client.post(url("protocolversion_publish", draft.pk)).status_code == 403
    data = inline_data(draft, [level_row(1, "Changed", "1m", pk=draft.levels.first().pk)])
    assert viewer_client.post(url("protocolversion_change", draft.pk), data).status_code == 403
    viewer_client.post(
        url("protocolversion_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    assert EscalationLevel.objects.filter(name="Changed").count() == 0


def test_non_staff_cannot_reach_the_admin(client, region, author):
    client.force_login(region.operator_a)
    response = client.get(url("protocolversion_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_published_rules_stay_on_the_record(author_client, author):
    published = make_published(author)
    draft = services.new_draft_from(by=author, version=published)
    protocol_id = published.protocol_id
    assert author_client.get(url("protocol_delete", protocol_id)).status_code == 403
    assert (
        author_client.post(url("protocol_delete", protocol_id), {"post": "yes"}).status_code == 403
    )
    assert (
        author_client.post(url("protocolversion_delete", published.pk), {"post": "yes"}).status_code
        == 403
    )
    response = author_client.post(
        url("protocol_changelist"),
        {"action": "delete_selected", "_selected_action": [protocol_id], "post": "yes"},
    )
    assert response.status_code == 403  # the versions may not be deleted
    assert Protocol.objects.filter(pk=protocol_id).exists()

    # A draft can go.
    response = author_client.post(url("protocolversion_delete", draft.pk), {"post": "yes"})
    assert response.status_code == 302
    assert list(ProtocolVersion.objects.values_list("number", flat=True)) == [1]
