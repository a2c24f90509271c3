"""Runs: start against a real exercise crisis, injects played by the engine through the
real services, pause/resume/add/end, who may control, and the API's answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crisis.models import CapAlert, Crisis, SituationUpdate, TimelineEntry
from deadlines.models import Deadline, DeadlineState
from exercises import services
from exercises.injects import INJECT_KIND
from exercises.models import ExerciseRun, Inject, InjectStatus, RunStatus
from hotline.models import ChannelKind, HotlineChannel, Message
from humanitarian.models import AssistanceRequest, Shelter
from tests.exercises.conftest import SCENARIO, play_until

pytestmark = pytest.mark.django_db


def statuses(run) -> list[str]:
    return list(run.injects.order_by("at_seconds", "pk").values_list("status", flat=True))


def test_a_run_opens_an_exercise_crisis_and_arms_every_inject(region, scenario):
    run = services.start_run(by=region.coordinator, scenario_key=scenario)
    crisis = Crisis.objects.get(pk=run.crisis_id)
    assert crisis.exercise is True
    assert crisis.lead_desk == region.desk_a and crisis.status == "reported"
    assert crisis.reported_by == region.supervisor_a  # in the lead desk's name
    assert run.controller_desk == region.centre and run.status == RunStatus.RUNNING
    injects = list(run.injects.order_by("at_seconds"))
    assert [i.at_seconds for i in injects] == [0, 300, 720, 900, 1200, 1800]
    for inject in injects:
        deadline = Deadline.objects.get(kind=INJECT_KIND, subject_key=inject.subject_key)
        assert deadline.state == DeadlineState.PENDING
        assert deadline.due_at == inject.due_at
        assert abs((inject.due_at - run.started_at).total_seconds() - inject.at_seconds) < 0.01


def test_every_inject_type_plays_through_its_real_service(region, scenario):
    run = services.start_run(by=region.coordinator, scenario_key=scenario, speed=60)
    crisis = run.crisis
    assert play_until(run, 0) == 1
    cap = CapAlert.objects.get(crisis=crisis, direction="received")
    assert cap.msg_type == "Update" and cap.sender == "met.example.org"
    assert cap.identifier == f"EXERCISE-{run.pk}-{run.injects.get(at_seconds=0).pk}"

    play_until(run, 30 * 60)
    assert statuses(run) == [InjectStatus.PLAYED] * 6, list(run.injects.values("what", "outcome"))
    shelter = Shelter.objects.get(crisis=crisis)
    assert (shelter.name, shelter.population, shelter.capacity) == ("Harbour school", 120, 120)
    assert shelter.status == "full"
    request = AssistanceRequest.objects.get(crisis=crisis)
    assert (request.item, request.quantity, request.requesting_desk) == (
        "family_tent",
        200,
        region.desk_b,
    )
    assert SituationUpdate.objects.get(crisis=crisis).conditions == "Forty people rescued so far."
    room = HotlineChannel.objects.get(kind=ChannelKind.CRISIS_ROOM, crisis_ref=crisis.reference)
    message = Message.objects.get(channel=room, kind="text")
    assert message.body == "Our coast guard is on scene." and message.sender_desk == region.desk_b
    crisis.refresh_from_db()
    assert crisis.status == "active"
    entries = TimelineEntry.objects.filter(crisis=crisis, kind="exercise_inject")
    assert entries.count() == 6
    assert {e.payload["status"] for e in entries} == {"played"}


def test_a_refused_inject_is_marked_failed_with_the_reason_not_retried(region, scenario):
    run = services.start_run(by=region.coordinator, scenario_key=scenario)
    services.add_inject(
        by=region.coordinator,
        run_id=run.pk,
        inject={"type": "transition", "to": "resolved", "what": "Resolve too early"},
    )
    play_until(run, 5)  # added "now": a moment after the start
    failed = run.injects.get(what="Resolve too early")
    assert failed.status == InjectStatus.FAILED
    assert "cannot become resolved" in failed.outcome
    deadline = Deadline.objects.get(subject_key=failed.subject_key)
    assert deadline.state == DeadlineState.FIRED  # done with: no retry loop


def test_pause_holds_and_resume_shifts_by_the_pause(region, scenario):
    run = services.start_run(by=region.supervisor_a, scenario_key=scenario)
    assert run.controller_desk == region.desk_a
    play_until(run, 0)
    before = {i.pk: i.due_at for i in run.injects.filter(status=InjectStatus.SCHEDULED)}
    assert len(before) == 5

    run = services.pause_run(by=region.supervisor_a, run_id=run.pk)
    assert run.status == RunStatus.PAUSED
    assert statuses(run) == [InjectStatus.PLAYED] + [InjectStatus.HELD] * 5
    assert not Deadline.objects.filter(kind=INJECT_KIND, state=DeadlineState.PENDING).exists()

    # Ten minutes of pause, as if the controller came back later.
    ExerciseRun.objects.filter(pk=run.pk).update(paused_at=run.paused_at - timedelta(minutes=10))
    run = services.resume_run(by=region.supervisor_a, run_id=run.pk)
    assert 600 <= run.paused_seconds < 610
    for inject in run.injects.filter(pk__in=before):
        shift = (inject.due_at - before[inject.pk]).total_seconds()
        assert 600 <= shift < 610, shift
        assert inject.status == InjectStatus.SCHEDULED
        deadline = Deadline.objects.get(subject_key=inject.subject_key, state="pending")
        assert deadline.due_at == inject.due_at
    assert services.scenario_seconds(run) < 10  # the scenario clock did not run in the pause


def test_injects_added_live(region, scenario):
    run = services.start_run(by=region.coordinator, scenario_key=scenario)
    now_inject = services.add_inject(
        by=region.coordinator, run_id=run.pk,
        inject={"type": "situation_update", "desk": "BBB-DESK", "conditions": "A second ferry."},
    )  # fmt: skip
    assert now_inject.added_by == region.coordinator and now_inject.at_seconds < 5
    later = services.add_inject(
        by=region.coordinator, run_id=run.pk,
        inject={"at": "T+40 min", "type": "message", "body": "Forty minutes in."},
    )  # fmt: skip
    assert later.desk == region.desk_a  # the lead desk when none is named
    assert abs((later.due_at - run.started_at).total_seconds() - 2400) < 1
    play_until(run, 5)
    now_inject.refresh_from_db()
    assert now_inject.status == InjectStatus.PLAYED

    services.pause_run(by=region.coordinator, run_id=run.pk)
    held = services.add_inject(
        by=region.coordinator, run_id=run.pk, inject={"type": "message", "body": "While paused."}
    )
    assert held.status == InjectStatus.HELD
    assert not Deadline.objects.filter(subject_key=held.subject_key).exists()
    services.resume_run(by=region.coordinator, run_id=run.pk)
    held.refresh_from_db()
    assert held.status == InjectStatus.SCHEDULED
    assert Deadline.objects.get(subject_key=held.subject_key).state == "pending"


def test_a_live_inject_is_checked_like_a_files(region, scenario):
    from core.errors import InvalidInput

    run = services.start_run(by=region.coordinator, scenario_key=scenario)
    cases = [
        ({"type": "message"}, "inject.body: missing (required)"),
        ({"type": "message", "body": "x", "at": "later"}, 'inject.at: "later" is not a time'),
        ({"type": "message", "body": "x", "desk": "NOPE"}, "inject.desk: no active desk NOPE"),
        ({"type": "request", "sector": "shelter", "item": "family_tent", "quantity": 0},
         "inject.quantity: 0 is not a whole number"),
    ]  # fmt: skip
    for data, expected in cases:
        with pytest.raises(InvalidInput) as caught:
            services.add_inject(by=region.coordinator, run_id=run.pk, inject=data)
        assert caught.value.message.startswith(expected), caught.value.message
    assert run.injects.count() == 6


def test_end_withdraws_what_is_left(region, scenario):
    run = services.start_run(by=region.coordinator, scenario_key=scenario)
    play_until(run, 0)
    run = services.end_run(by=region.coordinator, run_id=run.pk)
    assert statuses(run) == [InjectStatus.PLAYED] + [InjectStatus.WITHDRAWN] * 5
    assert not Deadline.objects.filter(kind=INJECT_KIND, state="pending").exists()
    from core.errors import Conflict

    for action in (services.pause_run, services.resume_run, services.end_run):
        with pytest.raises(Conflict):
            action(by=region.coordinator, run_id=run.pk)


def test_who_may_control(region, scenario):
    from core.errors import NotFound, PermissionDenied

    with pytest.raises(NotFound):  # an operator does not even see the scenarios
        services.start_run(by=region.operator_a, scenario_key=scenario)
    with pytest.raises(NotFound):  # a supervisor of another desk neither
        services.start_run(by=region.supervisor_b, scenario_key=scenario)
    with pytest.raises(PermissionDenied):  # an auditor reads, never controls
        services.start_run(by=region.auditor, scenario_key=scenario)
    run = services.start_run(by=region.supervisor_a, scenario_key=scenario)
    services.pause_run(by=region.coordinator, run_id=run.pk)  # the centre may take over
    for outsider in (region.operator_a, region.operator_b, region.supervisor_b):
        with pytest.raises(NotFound):  # players never see the run (or what is coming)
            services.resume_run(by=outsider, run_id=run.pk)
    with pytest.raises(PermissionDenied):
        services.resume_run(by=region.auditor, run_id=run.pk)
    with pytest.raises(PermissionDenied):  # only controllers upload
        services.upload_scenario(
            by=region.supervisor_b, source=SCENARIO.replace("Strait ferry", "Other")
        )


# --- the API -------------------------------------------------------------------------------


def test_api_start_read_control(region, scenario, api_client):
    api_client.force_authenticate(region.coordinator)
    listed = api_client.get("/api/v1/exercises/scenarios/").json()
    keys = {s["key"]: s for s in listed}
    assert {"andaman-tsunami", "south-china-sea-maritime", scenario} <= set(keys)
    # The test region has no THA desk: a shipped file says why it cannot run here.
    assert any("no active desk THA-DDPM" in p for p in keys["andaman-tsunami"]["problems"])
    assert keys[scenario]["problems"] == [] and keys[scenario]["duration"] == "T+30 min"

    response = api_client.post(
        "/api/v1/exercises/runs/", {"scenario": scenario, "speed": 60}, format="json"
    )
    assert response.status_code == 201, response.json()
    run = response.json()
    assert run["status"] == "running" and run["speed"] == 60 and run["lead_desk"] == "AAA-DESK"
    assert [i["at"] for i in run["injects"]][:2] == ["T+0", "T+5 min"]
    assert run["injects"][0]["due_local"].endswith("+07:00")  # the lead desk's zone

    paused = api_client.post(f"/api/v1/exercises/runs/{run['id']}/pause/").json()
    assert paused["status"] == "paused"
    assert {i["status"] for i in paused["injects"]} <= {"held", "played", "scheduled"}
    added = api_client.post(
        f"/api/v1/exercises/runs/{run['id']}/injects/",
        {"type": "message", "body": "Added from the API", "at": "T+1 min"},
        format="json",
    )
    assert added.status_code == 201, added.json()
    assert added.json()["status"] == "held" and added.json()["added_by"] == "coord"
    resumed = api_client.post(f"/api/v1/exercises/runs/{run['id']}/resume/").json()
    assert resumed["status"] == "running"
    assert api_client.get("/api/v1/exercises/runs/").json()["results"][0]["id"] == run["id"]


def test_api_errors_are_4xx_with_reasons(region, scenario, api_client):
    api_client.force_authenticate(region.coordinator)
    bad = SCENARIO.replace("  - at: T+5 min\n", "  - at: T+5 mins\n").replace("Strait", "Bad")
    response = api_client.post("/api/v1/exercises/scenarios/", {"source": bad}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_scenario"
    assert body["message"].startswith('line 16, injects[1].at: "T+5 mins" is not a time offset')
    assert body["details"]["errors"][0] == {
        "line": 16, "field": "injects[1].at",
        "message": '"T+5 mins" is not a time offset like T+5 min',
    }  # fmt: skip
    again = api_client.post("/api/v1/exercises/scenarios/", {"source": SCENARIO}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "scenario_exists"
    for payload, code in [
        ({"scenario": "nope"}, 404),
        ({"scenario": scenario, "speed": 0}, 400),
        ({"scenario": scenario, "speed": "fast"}, 400),
        ([1, 2], 400),
        ({}, 400),
    ]:
        response = api_client.post("/api/v1/exercises/runs/", payload, format="json")
        assert response.status_code == code, (payload, response.content)
    run = api_client.post("/api/v1/exercises/runs/", {"scenario": scenario}, format="json").json()
    assert api_client.post(f"/api/v1/exercises/runs/{run['id']}/resume/").status_code == 409
    for body in ({"type": "nope"}, {"type": "message", "body": ["x"]}, {}, {"at": {"a": 1}}):
        response = api_client.post(
            f"/api/v1/exercises/runs/{run['id']}/injects/", body, format="json"
        )
        assert response.status_code == 400, (body, response.content)
    assert api_client.get("/api/v1/exercises/runs/999999999999/").status_code == 404
    assert api_client.get("/api/v1/exercises/scenarios/nope/").status_code == 404

    api_client.force_authenticate(region.operator_a)
    assert api_client.get("/api/v1/exercises/scenarios/").json() == []
    assert api_client.get(f"/api/v1/exercises/runs/{run['id']}/").status_code == 404
    assert api_client.get("/api/v1/exercises/runs/").json()["results"] == []
    assert api_client.get(f"/api/v1/exercises/scenarios/{scenario}/").status_code == 404
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/exercises/runs/").status_code in (401, 403)


def test_list_query_count(region, scenario, api_client, django_assert_max_num_queries):
    for _ in range(3):
        services.start_run(by=region.coordinator, scenario_key=scenario)
    api_client.force_authenticate(region.coordinator)
    with django_assert_max_num_queries(8):
        response = api_client.get("/api/v1/exercises/runs/")
    assert response.json()["count"] == 3
    run = ExerciseRun.objects.first()
    with django_assert_max_num_queries(10):
        detail = api_client.get(f"/api/v1/exercises/runs/{run.pk}/")
    assert len(detail.json()["injects"]) == 6
    assert Inject.objects.count() == 18
    assert timezone.now()
