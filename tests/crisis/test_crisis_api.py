"""Crises over REST: what each caller may see and do, bad input, filters, query counts."""

import itertools

import pytest

from crisis.models import Crisis, CrisisParticipant, TimelineEntry
from crisis.services import crises as services
from tests.crisis.factories import activate, report
from tests.support.api import assert_error

pytestmark = pytest.mark.django_db

REPORT = {
    "category": "maritime",
    "title": "Ferry capsized near the maritime border",
    "severity": 4,
    "affected_states": ["AAA", "BBB"],
    "description": "120 passengers on board.",
    "latitude": "6.5",
    "longitude": "99.1",
    "admin_area": "AA-91 Coast",
}


def nothing_written():
    return (
        Crisis.objects.count(),
        TimelineEntry.objects.count(),
        CrisisParticipant.objects.count(),
    )


def test_report_then_detail(region, api_client):
    api_client.force_authenticate(region.operator_a)
    response = api_client.post("/api/v1/crises/", REPORT, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "reported" and body["severity_name"] == "Severe"
    assert body["lead_desk"] == "AAA-DESK" and body["affected_states"] == ["AAA", "BBB"]
    assert body["latitude"] == "6.50000" and body["admin_area"] == "AA-91 Coast"
    assert {(p["desk"], p["role"]) for p in body["participants"]} == {
        ("AAA-DESK", "lead"),
        ("BBB-DESK", "affected"),
    }
    api_client.force_authenticate(region.operator_b)
    detail = api_client.get(f"/api/v1/crises/{body['id']}/").json()
    assert detail["reference"] == body["reference"]


def test_exercise_is_set_when_reported_and_read_everywhere(region, api_client):
    api_client.force_authenticate(region.operator_a)
    real = api_client.post("/api/v1/crises/", REPORT, format="json").json()
    drill = api_client.post("/api/v1/crises/", {**REPORT, "exercise": True}, format="json")
    assert drill.status_code == 201, drill.content
    assert real["exercise"] is False and drill.json()["exercise"] is True
    listed = {c["id"]: c["exercise"] for c in api_client.get("/api/v1/crises/").json()["results"]}
    assert listed == {real["id"]: False, drill.json()["id"]: True}
    reported = Crisis.objects.get(pk=drill.json()["id"]).timeline.get(kind="reported")
    assert reported.payload["exercise"] is True


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"severity": 7}, "invalid_severity"),
        ({"severity": "grave"}, "invalid"),
        ({"affected_states": ["AAA", "XYZ"]}, "unknown_state"),
        ({"category": "meteor"}, "invalid"),
        ({"latitude": "95"}, "invalid_location"),
        ({"title": ""}, "invalid"),
    ],
)
def test_bad_report_is_400_with_reason_and_nothing_written(region, api_client, change, code):
    api_client.force_authenticate(region.operator_a)
    body = assert_error(
        api_client.post("/api/v1/crises/", {**REPORT, **change}, format="json"), 400, code
    )
    assert body["message"]
    assert nothing_written() == (0, 0, 0)


def test_auditor_cannot_write_and_unknown_desk_is_404(region, api_client):
    api_client.force_authenticate(region.auditor)
    assert_error(api_client.post("/api/v1/crises/", REPORT, format="json"), 403)
    api_client.force_authenticate(region.operator_a)
    assert_error(
        api_client.post("/api/v1/crises/", {**REPORT, "desk": "BBB-DESK"}, format="json"), 404
    )
    assert nothing_written() == (0, 0, 0)


def test_unaffected_state_gets_404_everywhere(region, api_client, protocol):
    crisis = activate(region, report(region))
    task = crisis.tasks.first()
    api_client.force_authenticate(region.operator_c)
    assert api_client.get("/api/v1/crises/").json()["results"] == []
    base = f"/api/v1/crises/{crisis.pk}"
    for path in ["/", "/timeline/", "/tasks/", "/participants/", "/updates/", "/cap.xml"]:
        assert_error(api_client.get(base + path), 404, "not_found")
    before = TimelineEntry.objects.count()
    for path, body in [
        ("/transition/", {"to": "de_escalating"}),
        ("/acknowledge/", {}),
        ("/severity/", {"severity": 5}),
        ("/updates/", {"conditions": "x"}),
        (f"/tasks/{task.pk}/done/", {}),
        ("/participants/", {"desk": "CCC-DESK", "role": "observer"}),
    ]:
        assert_error(api_client.post(base + path, body, format="json"), 404)
    assert TimelineEntry.objects.count() == before


def test_auditor_reads_everything_writes_nothing(region, api_client, protocol):
    crisis = activate(region, report(region))
    api_client.force_authenticate(region.auditor)
    base = f"/api/v1/crises/{crisis.pk}"
    assert api_client.get(base + "/").status_code == 200
    assert api_client.get(base + "/timeline/").status_code == 200
    before = TimelineEntry.objects.count()
    for path, body in [
        ("/transition/", {"to": "de_escalating"}),
        ("/acknowledge/", {}),
        ("/severity/", {"severity": 5}),
        ("/updates/", {"conditions": "x"}),
        ("/participants/", {"desk": "CCC-DESK", "role": "observer"}),
    ]:
        assert_error(api_client.post(base + path, body, format="json"), 403)
    assert TimelineEntry.objects.count() == before


def test_transitions_through_the_api(region, api_client, protocol):
    crisis = report(region)
    url = f"/api/v1/crises/{crisis.pk}/transition/"
    api_client.force_authenticate(region.operator_a)
    body = assert_error(api_client.post(url, {"to": "active"}, format="json"), 403)
    assert "supervisor" in body["message"]
    api_client.force_authenticate(region.supervisor_a)
    before = TimelineEntry.objects.count()
    body = assert_error(
        api_client.post(url, {"to": "resolved"}, format="json"), 409, "transition_not_allowed"
    )
    assert body["details"] == {
        "from": "reported",
        "to": "resolved",
        "allowed": ["active", "closed"],
    }
    assert TimelineEntry.objects.count() == before
    assert_error(api_client.post(url, {"to": "sideways"}, format="json"), 400, "invalid")
    response = api_client.post(url, {"to": "active"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "active" and body["current_level"] == 1
    assert body["level_deadline_at"] and body["protocol"]["levels"][0]["timeout_seconds"] == 300
    assert_error(api_client.post(url, {"to": "active"}, format="json"), 409)


def test_acknowledge_tasks_updates_participants_and_timeline(region, api_client, protocol):
    crisis = activate(region, report(region))
    base = f"/api/v1/crises/{crisis.pk}"
    api_client.force_authenticate(region.operator_b)
    body = api_client.post(base + "/acknowledge/", {}, format="json").json()
    assert body["escalation_state"] == "acknowledged" and body["level_deadline_at"] is None

    tasks = api_client.get(base + "/tasks/?desk=BBB-DESK").json()
    assert [(t["item_order"], t["is_done"]) for t in tasks] == [(1, False), (3, False)]
    done = api_client.post(f"{base}/tasks/{tasks[1]['id']}/done/").json()
    assert done["is_done"] and done["done_by"] == "op-b"
    undone = api_client.post(f"{base}/tasks/{tasks[1]['id']}/undone/").json()
    assert not undone["is_done"] and undone["done_by"] is None
    lead_task = api_client.get(base + "/tasks/?desk=AAA-DESK").json()[0]
    assert_error(api_client.post(f"{base}/tasks/{lead_task['id']}/done/"), 403, "not_your_task")

    update = {"conditions": "Slick 2 km", "actions": "Booms", "needs": "Dispersant"}
    response = api_client.post(base + "/updates/", update, format="json")
    assert response.status_code == 201
    assert api_client.get(base + "/").json()["latest_update"]["needs"] == "Dispersant"
    assert api_client.get(base + "/updates/").json()["results"][0]["conditions"] == "Slick 2 km"

    api_client.force_authenticate(region.coordinator)
    response = api_client.post(
        base + "/participants/", {"desk": "CCC-DESK", "role": "supporting"}, format="json"
    )
    assert response.json() == {**response.json(), "desk": "CCC-DESK", "role": "supporting"}
    assert_error(
        api_client.post(
            base + "/participants/", {"desk": "NOPE", "role": "observer"}, format="json"
        ),
        400,
        "unknown_desk",
    )
    roles = {p["desk"]: p["role"] for p in api_client.get(base + "/participants/").json()}
    assert roles == {"AAA-DESK": "lead", "BBB-DESK": "affected", "CCC-DESK": "supporting"}

    kinds = [e["kind"] for e in api_client.get(base + "/timeline/").json()["results"]]
    assert kinds == [
        "reported",
        "status_changed",
        "level_entered",
        "acknowledged",
        "task_done",
        "task_undone",
        "situation_update",
        "participant_changed",
    ]


def test_timeline_cursor_pagination_walks_every_entry_once(region, api_client):
    crisis = report(region)
    for i in range(7):
        services.post_situation_update(
            by=region.operator_a, desk=region.desk_a, crisis=crisis, conditions=f"update {i}"
        )
    api_client.force_authenticate(region.operator_b)
    url, seqs = f"/api/v1/crises/{crisis.pk}/timeline/?page_size=3", []
    from crisis.api.crises import TimelinePagination

    TimelinePagination.page_size = 3
    try:
        while url:
            page = api_client.get(url).json()
            seqs += [e["seq"] for e in page["results"]]
            url = page["next"]
    finally:
        TimelinePagination.page_size = 100
    assert seqs == list(range(1, 9))
    entries = api_client.get(f"/api/v1/crises/{crisis.pk}/timeline/").json()["results"]
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(entries))


def test_list_filters(region, api_client):
    first = report(region, severity=2)
    second = report(
        region, title="Earthquake", category="earthquake", severity=5, affected_state_codes=["BBB"]
    )
    services.transition_crisis(
        by=region.coordinator, desk=region.centre, crisis=second, to_status="active"
    )
    api_client.force_authenticate(region.coordinator)

    def refs(query):
        response = api_client.get(f"/api/v1/crises/?{query}")
        assert response.status_code == 200, response.content
        return [c["reference"] for c in response.json()["results"]]

    assert refs("") == [second.reference, first.reference]
    assert refs("status=active") == [second.reference]
    assert refs("status=active&status=reported") == [second.reference, first.reference]
    assert refs("severity=2") == [first.reference]
    assert refs("severity_min=3") == [second.reference]
    assert refs("category=maritime") == [first.reference]
    assert refs("state=aaa") == [first.reference]
    assert refs("state=BBB") == [second.reference, first.reference]
    today = first.reported_at.date().isoformat()
    assert refs(f"reported_after={today}&reported_before={today}") == [
        second.reference,
        first.reference,
    ]
    assert refs("reported_after=2999-01-01") == []
    assert_error(api_client.get("/api/v1/crises/?state=ZZZ"), 400, "unknown_state")
    assert_error(api_client.get("/api/v1/crises/?status=exploded"), 400, "invalid")
    assert_error(api_client.get("/api/v1/crises/?reported_after=yesterday"), 400, "invalid")


def test_list_query_count_is_constant(region, api_client, django_assert_max_num_queries):
    for i in range(3):
        services.post_situation_update(
            by=region.operator_b,
            desk=region.desk_b,
            crisis=report(region, title=f"Crisis {i}"),
            conditions="x",
        )
    for user in (region.operator_b, region.coordinator):
        api_client.force_authenticate(user)
        with django_assert_max_num_queries(4):
            assert len(api_client.get("/api/v1/crises/").json()["results"]) == 3
    for i in range(10):
        report(region, title=f"More {i}", affected_state_codes=["BBB", "CCC"])
    with django_assert_max_num_queries(4):
        assert len(api_client.get("/api/v1/crises/?state=BBB").json()["results"]) == 13


def test_schema_lists_the_crisis_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    for path in [
        "/api/v1/crises/",
        "/api/v1/crises/{id}/",
        "/api/v1/crises/{id}/transition/",
        "/api/v1/crises/{id}/acknowledge/",
        "/api/v1/crises/{id}/tasks/",
        "/api/v1/crises/{id}/tasks/{task_id}/{verb}/",
        "/api/v1/crises/{id}/timeline/",
        "/api/v1/crises/{id}/cap.xml",
        "/api/v1/crises/cap/",
    ]:
        assert path in schema["paths"], path
    create = schema["paths"]["/api/v1/crises/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["examples"]
    intake = schema["paths"]["/api/v1/crises/cap/"]["post"]
    assert "application/xml" in intake["requestBody"]["content"]


def test_detail_lists_query_counts_are_constant(
    region, api_client, protocol, django_assert_max_num_queries
):
    crisis = activate(region, report(region))
    for i in range(12):
        services.post_situation_update(
            by=region.operator_b, desk=region.desk_b, crisis=crisis, conditions=f"update {i}"
        )
    services.set_participant(
        by=region.coordinator, crisis=crisis, desk=region.desk_c, role="observer"
    )
    api_client.force_authenticate(region.operator_b)
    base = f"/api/v1/crises/{crisis.pk}"
    for path, count in [
        ("/timeline/", 16),
        ("/tasks/", 5),
        ("/updates/", 12),
        ("/participants/", 3),
    ]:
        with django_assert_max_num_queries(5):
            body = api_client.get(base + path).json()
        rows = body["results"] if isinstance(body, dict) else body
        assert len(rows) == count, path
    with django_assert_max_num_queries(6):
        assert len(api_client.get(base + "/").json()["participants"]) == 3


def test_dismissal_without_reason_is_400_and_nothing_written(region, api_client):
    crisis = report(region)
    api_client.force_authenticate(region.supervisor_a)
    before = TimelineEntry.objects.count()
    url = f"/api/v1/crises/{crisis.pk}/transition/"
    assert_error(api_client.post(url, {"to": "closed"}, format="json"), 400, "reason_required")
    assert TimelineEntry.objects.count() == before
    body = api_client.post(
        url, {"to": "closed", "reason": "Duplicate report."}, format="json"
    ).json()
    assert body["status"] == "closed" and body["closed_at"]
