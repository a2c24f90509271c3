"""After-action reviews through the API: who drafts, edits, publishes and reads (403 with
the reason, 404 for what is hidden), the published review's tasks, and bad input."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from crisis.lifecycle import FOLLOW_UP_ROLE
from crisis.models import CrisisTask, Notification, TimelineEntry
from crisis.services import crises as crisis_services
from review.models import Review
from review.selectors import review_for
from tests.crisis.factories import activate, make_protocol, report

pytestmark = pytest.mark.django_db


def _resolve(region, crisis):
    for status in ("de_escalating", "resolved"):
        crisis = crisis_services.transition_crisis(
            by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status=status
        )
    return crisis


@pytest.fixture
def crisis(region):
    make_protocol()
    return activate(region, report(region))


@pytest.fixture
def resolved(region, crisis):
    return _resolve(region, crisis)


def _as(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def _url(crisis, tail=""):
    return f"/api/v1/crises/{crisis.pk}/review/{tail}"


def _soon(days=7):
    return (timezone.now() + timedelta(days=days)).astimezone(UTC).isoformat()


def test_only_the_lead_supervisor_and_the_coordinator_draft(region, resolved, api_client):
    refused = {
        "operator_a": (403, "not_review_editor", "not its supervisor"),
        "operator_b": (403, "not_review_editor", "other parties read it once it is published"),
        "auditor": (403, None, None),
        "operator_c": (404, None, None),
    }
    for who, (status, code, words) in refused.items():
        response = _as(api_client, getattr(region, who)).post(_url(resolved), {}, format="json")
        assert response.status_code == status, (who, response.content)
        body = response.json()
        assert body["message"], body
        if code:
            assert body["code"] == code and words in body["message"], body
    api_client.force_authenticate(None)
    assert api_client.post(_url(resolved), {}, format="json").status_code in {401, 403}
    assert not Review.objects.exists()

    drafted = _as(api_client, region.supervisor_a).post(_url(resolved), {}, format="json")
    assert drafted.status_code == 201, drafted.content
    review = drafted.json()
    assert review["status"] == "draft"
    assert resolved.reference in review["what_happened"]
    assert [h["kind"] for h in review["generated"]["highlights"]][:2] == [
        "reported",
        "status_changed",
    ]
    assert review["generated"]["performance"]["crisis"]["id"] == resolved.pk
    again = api_client.post(_url(resolved), {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "review_exists")
    assert TimelineEntry.objects.filter(crisis=resolved, kind="review_drafted").count() == 1


def test_a_review_follows_the_crisis(region, crisis, api_client):
    response = _as(api_client, region.coordinator).post(_url(crisis), {}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "crisis_not_finished")


def test_draft_is_read_by_its_editors_only_then_published_to_every_party(
    region, resolved, api_client
):
    _as(api_client, region.coordinator).post(_url(resolved), {}, format="json")
    for who, status in (("operator_b", 404), ("operator_c", 404), ("operator_a", 200),
                        ("supervisor_a", 200), ("coordinator", 200), ("auditor", 200)):  # fmt: skip
        response = _as(api_client, getattr(region, who)).get(_url(resolved))
        assert response.status_code == status, (who, response.content)

    edited = _as(api_client, region.coordinator).patch(
        _url(resolved),
        {
            "what_happened": "A tanker and a fishing vessel collided.",
            "went_well": "B answered level 2 in 4 minutes.",
            "to_change": "Level 1 went unanswered: page A's operators by SMS.",
            "actions": [
                {"title": "Add SMS paging for A's operators", "owner_desk": "AAA-DESK",
                 "owner": "sup-a", "due_at": _soon(14)},
                {"title": "Run a line check drill", "owner_desk": "BBB-DESK",
                 "due_at": _soon(30)},
            ],
        },
        format="json",
    )  # fmt: skip
    assert edited.status_code == 200, edited.content
    assert [a["owner_desk"] for a in edited.json()["actions"]] == ["AAA-DESK", "BBB-DESK"]

    for who in ("operator_a", "operator_b"):
        response = _as(api_client, getattr(region, who)).post(_url(resolved, "publish/"), {},
                                                               format="json")  # fmt: skip
        assert (response.status_code, response.json()["code"]) == (403, "not_review_editor")
    published = _as(api_client, region.supervisor_a).post(
        _url(resolved, "publish/"), {}, format="json"
    )
    assert published.status_code == 200, published.content
    body = published.json()
    assert body["status"] == "published" and body["published_by"] == "sup-a"

    tasks = CrisisTask.objects.filter(crisis=resolved, party_role=FOLLOW_UP_ROLE).order_by("pk")
    assert [(t.desk.code, t.title) for t in tasks] == [
        ("AAA-DESK", "Add SMS paging for A's operators"),
        ("BBB-DESK", "Run a line check drill"),
    ]
    assert "owner: sup-a" in tasks[0].description
    assert [a["task_id"] for a in body["actions"]] == [t.pk for t in tasks]
    assert abs(tasks[1].due_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    entry = TimelineEntry.objects.get(crisis=resolved, kind="review_published")
    assert entry.payload["task_ids"] == [t.pk for t in tasks]
    told = set(
        Notification.objects.filter(crisis=resolved, kind="review.published").values_list(
            "desk__code", flat=True
        )
    )
    assert {"AAA-DESK", "BBB-DESK", "RCC"} <= told and "CCC-DESK" not in told

    # Read-only once published; every party reads it; the owner ticks its follow-up task
    # although the crisis is resolved.
    late_edit = _as(api_client, region.coordinator).patch(_url(resolved), {"went_well": "x"},
                                                          format="json")  # fmt: skip
    assert (late_edit.status_code, late_edit.json()["code"]) == (409, "review_published")
    again = api_client.post(_url(resolved, "publish/"), {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "review_published")
    assert _as(api_client, region.operator_b).get(_url(resolved)).status_code == 200
    assert _as(api_client, region.operator_c).get(_url(resolved)).status_code == 404
    crisis_services.set_task_done(by=region.operator_b, task=tasks[1], done=True)
    shown = _as(api_client, region.operator_b).get(_url(resolved)).json()
    assert shown["actions"][1]["done_at"] is not None


@pytest.mark.parametrize(
    "action,key",
    [
        ({"title": "x", "owner_desk": "CCC-DESK", "due_at": "soon"}, "owner_desk"),  # no party
        ({"title": "x", "owner_desk": "BBB-DESK", "owner": "op-a", "due_at": "soon"}, "owner"),
        ({"title": "x", "owner_desk": "BBB-DESK", "due_at": "past"}, "due_at"),
        ({"title": "   ", "owner_desk": "BBB-DESK", "due_at": "soon"}, "title"),
    ],
)
def test_bad_actions_are_refused_naming_the_field(region, resolved, api_client, action, key):
    client = _as(api_client, region.supervisor_a)
    client.post(_url(resolved), {}, format="json")
    due = {"soon": _soon(), "past": _soon(-1)}[action["due_at"]]
    response = client.patch(_url(resolved), {"actions": [{**action, "due_at": due}]},
                            format="json")  # fmt: skip
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"]
    if key != "title":  # an all-blank title is refused by the serializer itself
        assert body["details"] == {"field": "actions", "index": 0, "key": key}, body


def test_junk_review_bodies_get_4xx(region, resolved, api_client):
    client = _as(api_client, region.supervisor_a)
    client.post(_url(resolved), {}, format="json")
    for body in ([], "x", 12, {"actions": "many"}, {"actions": [1]}, {"what_happened": None},
                 {"what_happened": "a\x00b"}, {"what_happened": "x" * 20001},
                 {"actions": [{"title": "t", "owner_desk": "BBB-DESK",
                               "due_at": "2026-13-45T99:99"}]}, {"desk": ["x"]}):  # fmt: skip
        response = client.patch(_url(resolved), json.dumps(body), content_type="application/json")
        assert 400 <= response.status_code < 500, (body, response.content)
        assert response.json()["code"], body
    assert Review.objects.get().what_happened  # untouched


def test_performance_api_reads(region, resolved, api_client):
    ok = _as(api_client, region.operator_b).get(f"/api/v1/crises/{resolved.pk}/performance/")
    assert ok.status_code == 200 and ok.json()["crisis"]["reference"] == resolved.reference
    hidden = _as(api_client, region.operator_c).get(f"/api/v1/crises/{resolved.pk}/performance/")
    assert hidden.status_code == 404

    own = _as(api_client, region.operator_a).get("/api/v1/desks/AAA-DESK/performance/")
    assert own.status_code == 200 and own.json()["period"] == "quarter"
    other = api_client.get("/api/v1/desks/BBB-DESK/performance/")
    assert (other.status_code, other.json()["code"]) == (403, "not_your_desk")
    assert "BBB" in other.json()["message"]
    assert api_client.get("/api/v1/desks/NOPE/performance/").status_code == 404
    for params in ({"period": "week"}, {"periods": "0"}, {"periods": "25"}, {"periods": "x"},
                   {"exercises": "maybe"}):  # fmt: skip
        bad = api_client.get("/api/v1/desks/AAA-DESK/performance/", params)
        assert bad.status_code == 400 and bad.json()["details"]["field"] in params, params
    months = _as(api_client, region.coordinator).get(
        "/api/v1/desks/BBB-DESK/performance/", {"period": "month", "exercises": "include"}
    )
    assert months.status_code == 200 and len(months.json()["periods"]) == 6


def test_review_for_the_record_is_plain_json(region, resolved):
    assert json.loads(json.dumps(review_for(resolved)))["review"] is None
    from review.services import draft_review

    draft_review(by=region.coordinator, desk=region.centre, crisis=resolved)
    record = json.loads(json.dumps(review_for(resolved)))
    assert record["review"]["status"] == "draft"
    assert record["performance"]["crisis"]["id"] == resolved.pk


def test_console_pages_render(region, resolved, client):
    client.force_login(region.supervisor_a)
    for url in (f"/crises/{resolved.pk}/performance/", "/desks/AAA-DESK/performance/",
                "/desks/AAA-DESK/performance/?period=month&exercises=include",
                f"/crises/{resolved.pk}/review/", f"/crises/{resolved.pk}/"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
    assert client.get("/performance/").status_code == 302
    assert client.get("/desks/BBB-DESK/performance/").status_code == 403
    assert client.get("/desks/AAA-DESK/performance/?period=week").status_code == 400
    client.force_login(region.coordinator)
    page = client.get(f"/crises/{resolved.pk}/").content.decode()
    assert "Draft the after-action review" in page and "Performance against the protocol" in page
    client.force_login(region.operator_c)
    assert client.get(f"/crises/{resolved.pk}/performance/").status_code == 404
    assert client.get(f"/crises/{resolved.pk}/review/").status_code == 404
