"""/api/v1/protocols/: read for everyone signed in; drafts editable by authors; published 409."""

import pytest

from crisis.models import ProtocolVersion, TimelineEntry
from crisis.services import protocols as services
from tests.crisis.factories import ladder, make_draft, make_published
from tests.support.api import assert_error

pytestmark = pytest.mark.django_db

CATEGORIES = ["maritime", "earthquake", "flood", "storm", "volcano", "pandemic", "cyber"]


def test_list_shows_published_version(region, author, api_client):
    v1 = make_published(author)
    services.new_draft_from(by=author, version=v1)
    api_client.force_authenticate(region.operator_b)
    body = api_client.get("/api/v1/protocols/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["name"] == "Maritime incident" and row["category"] == "maritime"
    assert row["published_version"]["number"] == 1
    assert row["version_count"] == 1  # the draft is not shown to a desk operator


def test_detail_has_versions_ladder_checklist_and_preview(region, author, api_client):
    v1 = make_published(author, levels=ladder(region.centre.pk))
    services.new_draft_from(by=author, version=v1)
    api_client.force_authenticate(region.operator_a)
    body = api_client.get(f"/api/v1/protocols/{v1.protocol_id}/").json()
    assert [v["number"] for v in body["versions"]] == [1]
    version = body["versions"][0]
    assert version["status"] == "published"
    assert [lv["order"] for lv in version["levels"]] == [1, 2, 3]
    assert version["levels"][1]["notify_desks"] == ["RCC"]
    assert version["levels"][0]["timeout_seconds"] == 600
    assert version["checklist"][0]["party_role"] == "affected"
    assert version["preview"][1]["at"] == "T+10 min"

    api_client.force_authenticate(author)
    body = api_client.get(f"/api/v1/protocols/{v1.protocol_id}/").json()
    assert [v["number"] for v in body["versions"]] == [2, 1]  # authors see drafts


def test_version_by_number(region, author, api_client):
    v1 = make_published(author)
    api_client.force_authenticate(region.auditor)
    response = api_client.get(f"/api/v1/protocols/{v1.protocol_id}/versions/1/")
    assert response.status_code == 200 and response.json()["id"] == v1.pk
    assert_error(
        api_client.get(f"/api/v1/protocols/{v1.protocol_id}/versions/9/"), 404, "not_found"
    )
    assert_error(api_client.get("/api/v1/protocols/999/versions/1/"), 404, "not_found")
    listing = api_client.get(f"/api/v1/protocols/{v1.protocol_id}/versions/").json()
    assert [v["number"] for v in listing] == [1]


def test_drafts_are_hidden_from_non_authors(region, author, api_client):
    draft = make_draft(author)
    api_client.force_authenticate(region.operator_a)
    url = f"/api/v1/protocols/{draft.protocol_id}/versions/1/"
    assert_error(api_client.get(url), 404, "not_found")
    assert_error(api_client.patch(url, {"notes": "x"}, format="json"), 404, "not_found")


def test_anonymous_is_401(api_client, db):
    assert_error(api_client.get("/api/v1/protocols/"), 401, "not_authenticated")


def test_list_query_count_is_constant(region, author, api_client, django_assert_max_num_queries):
    for i in range(2):
        make_published(author, name=f"P{i}", category=CATEGORIES[i])
    api_client.force_authenticate(region.operator_a)
    with django_assert_max_num_queries(6) as few:  # access, 2 permission, count, page, prefetch
        assert len(api_client.get("/api/v1/protocols/").json()["results"]) == 2
    for i in range(2, 7):
        make_published(author, name=f"P{i}", category=CATEGORIES[i])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api_client.get("/api/v1/protocols/").json()["results"]) == 7


def test_detail_query_count_is_constant(region, author, api_client, django_assert_max_num_queries):
    v = make_published(author, levels=ladder(region.desk_a.pk))
    api_client.force_authenticate(region.operator_a)
    url = f"/api/v1/protocols/{v.protocol_id}/"
    with django_assert_max_num_queries(9) as few:
        api_client.get(url)
    for _ in range(4):
        v = services.new_draft_from(by=author, version=v)
        v = services.publish_version(by=author, version=v)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api_client.get(url).json()["versions"]) == 5


def test_author_patches_a_draft(region, author, api_client):
    draft = make_draft(author)
    api_client.force_authenticate(author)
    url = f"/api/v1/protocols/{draft.protocol_id}/versions/1/"
    response = api_client.patch(
        url,
        {
            "notes": "Shorter level 1",
            "max_repeats": 4,
            "levels": [
                {
                    "order": 1,
                    "name": "Affected operators",
                    "timeout_minutes": 5,
                    "notify_scopes": ["affected"],
                    "notify_roles": ["operator"],
                    "notify_desks": ["RCC"],
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["notes"] == "Shorter level 1" and body["max_repeats"] == 4
    assert body["levels"] == [
        {
            "order": 1,
            "name": "Affected operators",
            "timeout_seconds": 300,
            "notify_scopes": ["affected"],
            "notify_roles": ["operator"],
            "notify_desks": ["RCC"],
            "notify_agency_types": [],
            "actions": [],
        }
    ]
    assert len(body["checklist"]) == 2  # not sent: unchanged


def test_patching_a_published_version_is_409_and_changes_nothing(region, author, api_client):
    published = make_published(author)
    before = services.snapshot_of(published)
    api_client.force_authenticate(author)
    url = f"/api/v1/protocols/{published.protocol_id}/versions/1/"
    for body in ({"notes": "sneaky"}, {"levels": []}, {"max_repeats": "bad"}):
        response = api_client.patch(url, body, format="json")
        assert_error(response, 409, "version_immutable")
    published.refresh_from_db()
    assert published.notes == "" and services.snapshot_of(published) == before


def test_patch_needs_the_author_permission(region, author, api_client):
    draft = make_draft(author)
    api_client.force_authenticate(region.coordinator)
    # Not an author: drafts are hidden (404), and published versions are 403.
    url = f"/api/v1/protocols/{draft.protocol_id}/versions/1/"
    assert_error(api_client.patch(url, {"notes": "x"}, format="json"), 404, "not_found")
    services.publish_version(by=author, version=draft)
    assert_error(api_client.patch(url, {"notes": "x"}, format="json"), 403, "not_protocol_author")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"levels": [{"order": 1, "name": "A", "timeout_minutes": 0}]},
            "levels[0].timeout_minutes",
        ),
        (
            {
                "levels": [
                    {"order": 1, "name": "A", "timeout_seconds": 60},
                    {"order": 1, "name": "B", "timeout_seconds": 60},
                ]
            },
            "levels[1].order",
        ),
        (
            {"levels": [{"order": 1, "name": "A", "timeout_seconds": 60, "notify_desks": ["X"]}]},
            "levels[0].notify_desks",
        ),
        ({"checklist": [{"order": 1}]}, "checklist[0].title"),
        ({"max_repeats": -1}, "max_repeats"),
        (
            {"levels": [{"order": 1, "name": "A", "timeout_seconds": 2**40}]},
            "levels[0].timeout_seconds",
        ),
    ],
)
def test_bad_patch_is_400_naming_the_field_and_writes_nothing(
    region, author, api_client, body, field
):
    draft = make_draft(author)
    before = services.snapshot_of(draft)
    api_client.force_authenticate(author)
    url = f"/api/v1/protocols/{draft.protocol_id}/versions/1/"
    response = api_client.patch(url, body, format="json")
    error = assert_error(response, 400, "invalid")
    assert field in error["message"]
    assert services.snapshot_of(ProtocolVersion.objects.get(pk=draft.pk)) == before


def test_export_over_the_api(region, author, api_client):
    published = make_published(author)
    api_client.force_authenticate(region.operator_a)
    url = f"/api/v1/protocols/{published.protocol_id}/versions/1/export/"
    response = api_client.get(url + "?as=json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["format"] == "crisis-protocol/1"
    assert api_client.get(url).content.decode().startswith("format: crisis-protocol/1")
    assert_error(api_client.get(url + "?as=xml"), 400, "invalid")


def test_schema_lists_the_protocol_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    for path in [
        "/api/v1/protocols/",
        "/api/v1/protocols/{id}/",
        "/api/v1/protocols/{protocol_id}/versions/",
        "/api/v1/protocols/{protocol_id}/versions/{number}/",
        "/api/v1/protocols/{protocol_id}/versions/{number}/export/",
    ]:
        assert path in schema["paths"], path
    patch = schema["paths"]["/api/v1/protocols/{protocol_id}/versions/{number}/"]["patch"]
    assert "409" in patch["responses"]
    assert TimelineEntry.objects.count() == 0


def test_list_filters_by_category(region, author, api_client):
    make_published(author, name="Ferry", category="maritime")
    make_published(author, name="Quake", category="earthquake")
    api_client.force_authenticate(region.operator_a)
    names = [
        p["name"]
        for p in api_client.get("/api/v1/protocols/?category=earthquake").json()["results"]
    ]
    assert names == ["Quake"]
    assert_error(api_client.get("/api/v1/protocols/?category=volcanoes"), 400, "invalid")
