"""The crisis lifecycle at the service layer: rules, state machine, traces."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.errors import InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from core.events import desk_group
from crisis.lifecycle import TRANSITIONS
from crisis.models import (
    CapAlert,
    ChecklistItem,
    Crisis,
    CrisisParticipant,
    CrisisTask,
    EscalationAck,
    EscalationLevel,
    EscalationState,
    ProtocolVersion,
    SituationUpdate,
    TimelineEntry,
    VersionStatus,
)
from crisis.services import crises as services
from crisis.services import timeline
from crisis.services.protocols import publish_version
from tests.crisis.factories import activate, kinds, report

pytestmark = pytest.mark.django_db


PATH = ["reported", "active", "de_escalating", "resolved", "closed"]
LEGAL = {(t.source, t.target) for t in TRANSITIONS}


def walk_to(region, crisis, status):
    """Move a crisis forward along the main path as the lead supervisor."""
    for target in PATH[PATH.index(crisis.status) + 1 : PATH.index(status) + 1]:
        crisis = services.transition_crisis(
            by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status=target
        )
    return crisis


def written(crisis):
    crisis.refresh_from_db()
    return (
        crisis.status,
        crisis.severity,
        crisis.escalation_state,
        TimelineEntry.objects.count(),
        CapAlert.objects.count(),
        CrisisTask.objects.count(),
        EscalationAck.objects.count(),
    )


def test_report_opens_a_crisis_with_participants_trace_and_cap_alert(region):
    crisis = report(region)
    assert crisis.reference.startswith("CR-") and crisis.reference.endswith("-0001")
    assert report(region, title="Second").reference.endswith("-0002")
    assert crisis.status == "reported" and crisis.lead_desk == region.desk_a
    assert sorted(crisis.affected_states.values_list("code", flat=True)) == ["AAA", "BBB"]
    assert dict(crisis.participants.values_list("desk__code", "role")) == {
        "AAA-DESK": "lead",
        "BBB-DESK": "affected",
    }
    assert kinds(crisis) == ["reported"]
    entry = TimelineEntry.objects.get(crisis=crisis)
    assert entry.actor == region.operator_a and entry.desk == region.desk_a
    assert entry.payload["affected_states"] == ["AAA", "BBB"]
    (alert,) = crisis.cap_alerts.all()
    assert (alert.direction, alert.msg_type) == ("issued", "Alert")


def test_report_pushes_an_event_to_every_concerned_desk_after_commit(
    region, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    inboxes = {}
    for desk in (region.desk_a, region.desk_b, region.desk_c, region.centre):
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(desk_group(desk.pk), channel)
        inboxes[desk.code] = channel
    with django_capture_on_commit_callbacks(execute=True):
        crisis = report(region)

    async def receive(channel):
        import asyncio

        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    for code in ("AAA-DESK", "BBB-DESK", "RCC"):
        message = async_to_sync(receive)(inboxes[code])
        assert message["event"]["type"] == "crisis.updated"
        assert message["event"]["change"] == "reported"
        assert message["event"]["crisis"]["reference"] == crisis.reference
    # the unaffected state's desk is told nothing
    import asyncio

    with pytest.raises(asyncio.TimeoutError):

        async def quick():
            return await asyncio.wait_for(layer.receive(inboxes["CCC-DESK"]), timeout=0.3)

        async_to_sync(quick)()


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("severity", 0, "invalid_severity"),
        ("severity", 6, "invalid_severity"),
        ("severity", "high", "invalid_severity"),
        ("severity", 3.5, "invalid_severity"),
        ("severity", True, "invalid_severity"),
        ("affected_state_codes", ["AAA", "ZZZ"], "unknown_state"),
        ("affected_state_codes", [], "no_affected_state"),
        ("category", "meteor", "invalid_category"),
        ("latitude", "91", "invalid_location"),
        ("latitude", "NaN", "invalid_location"),
        ("longitude", "Infinity", "invalid_location"),
        ("longitude", "east", "invalid_location"),
        ("longitude", None, "invalid_location"),
        ("title", "  ", "invalid_title"),
    ],
)
def test_bad_report_is_refused_and_nothing_is_written(region, field, value, code):
    with pytest.raises(InvalidInput) as refused:
        report(region, **{field: value})
    assert refused.value.code == code and refused.value.message
    assert not Crisis.objects.exists()
    assert not TimelineEntry.objects.exists()
    assert not CrisisParticipant.objects.exists()


def test_reader_cannot_report(region):
    with pytest.raises(PermissionDenied):
        report(region, by=region.auditor, desk=region.centre)
    with pytest.raises(NotFound):
        report(region, by=region.operator_c, desk=region.desk_a)
    assert not Crisis.objects.exists()


@pytest.mark.parametrize("source", PATH)
@pytest.mark.parametrize("target", PATH)
def test_every_transition_is_legal_or_refused_with_409(region, protocol, source, target):
    crisis = walk_to(region, report(region), source)
    before = written(crisis)
    if (source, target) in LEGAL:
        reason = "Because." if target == "closed" and source == "reported" else ""
        if (source, target) == ("de_escalating", "active"):
            reason = "Aftershock."
        crisis = services.transition_crisis(
            by=region.coordinator,
            desk=region.centre,
            crisis=crisis,
            to_status=target,
            reason=reason,
        )
        assert crisis.status == target
        entry = TimelineEntry.objects.filter(crisis=crisis, kind="status_changed").last()
        assert (entry.payload["from"], entry.payload["to"]) == (source, target)
        assert entry.actor == region.coordinator and entry.desk == region.centre
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            services.transition_crisis(
                by=region.coordinator, desk=region.centre, crisis=crisis, to_status=target
            )
        assert refused.value.status == 409 and source.replace("_", "-") in refused.value.message
        assert refused.value.details["from"] == source
        assert written(crisis) == before


def test_activation_binds_the_published_protocol_and_starts_escalation(region, protocol):
    crisis = activate(region, report(region))
    assert crisis.protocol_version == protocol
    first_level = crisis.protocol_snapshot["levels"][0]
    assert first_level["name"] == "Affected states' operators"
    assert crisis.escalation_state == EscalationState.ESCALATING and crisis.current_level == 1
    assert crisis.level_deadline_at == crisis.level_entered_at + timedelta(seconds=300)
    assert kinds(crisis) == ["reported", "status_changed", "level_entered"]
    payload = TimelineEntry.objects.get(crisis=crisis, kind="status_changed").payload
    assert payload["protocol"]["version_id"] == protocol.pk and payload["tasks_created"] == 4
    tasks = {
        (t.desk.code, t.item_order): t.due_at - crisis.activated_at for t in crisis.tasks.all()
    }
    assert tasks == {
        ("AAA-DESK", 1): timedelta(minutes=30),
        ("AAA-DESK", 2): timedelta(minutes=120),
        ("BBB-DESK", 1): timedelta(minutes=30),
        ("BBB-DESK", 3): timedelta(minutes=240),
    }


def test_activation_without_a_published_protocol_has_no_ladder(region):
    crisis = activate(region, report(region))
    assert crisis.status == "active" and crisis.protocol_version is None
    assert crisis.escalation_state == EscalationState.NOT_STARTED
    assert (
        TimelineEntry.objects.get(crisis=crisis, kind="status_changed").payload["protocol"] is None
    )


def test_snapshot_isolation_new_version_and_draft_edits_do_not_touch_the_crisis(region, protocol):
    crisis = activate(region, report(region))
    snapshot = crisis.protocol_snapshot
    # a new draft is edited, then published; the old version retires
    draft = ProtocolVersion.objects.create(
        protocol=protocol.protocol, number=2, created_from=protocol
    )
    EscalationLevel.objects.create(
        version=draft,
        order=1,
        name="Everyone at once",
        timeout_seconds=60,
        notify_scopes=["all_states"],
    )
    ChecklistItem.objects.create(version=draft, order=1, title="New task", due_after_minutes=5)
    author = get_user_model().objects.create_superuser("author", password="pw-for-tests")
    publish_version(by=author, version=draft)
    protocol.refresh_from_db()
    assert protocol.status == VersionStatus.RETIRED
    crisis.refresh_from_db()
    assert crisis.protocol_version_id == protocol.pk
    assert crisis.protocol_snapshot == snapshot
    assert crisis.level_deadline_at is not None
    assert sorted(crisis.tasks.values_list("title", flat=True)) == sorted(
        ["Confirm focal point"] * 2
        + ["Send initial report (SASOP Form 1)", "Report affected areas"]
    )
    # a crisis activated now binds v2
    later = activate(region, report(region, title="Later"))
    assert later.protocol_version_id == draft.pk
    assert [lv["name"] for lv in later.protocol_snapshot["levels"]] == ["Everyone at once"]


@pytest.mark.parametrize(
    ("who", "desk", "outcome"),
    [
        ("operator_a", "desk_a", PermissionDenied),  # lead desk, but operators don't activate
        ("supervisor_b", "desk_b", PermissionDenied),  # affected, not lead
        ("auditor", "centre", PermissionDenied),  # reads everything, writes nothing
        ("operator_c", "desk_c", NotFound),  # unaffected state: may not know it exists
        ("supervisor_a", "desk_a", None),
        ("coordinator", "centre", None),
    ],
)
def test_who_may_activate(region, protocol, who, desk, outcome):
    crisis = report(region)
    before = written(crisis)
    call = lambda: services.transition_crisis(  # noqa: E731
        by=getattr(region, who), desk=getattr(region, desk), crisis=crisis, to_status="active"
    )
    if outcome is None:
        assert call().status == "active"
    else:
        with pytest.raises(outcome):
            call()
        assert written(crisis) == before


def test_dismiss_and_re_escalate_need_a_reason(region, protocol):
    crisis = report(region)
    with pytest.raises(InvalidInput):
        services.transition_crisis(
            by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="closed"
        )
    crisis = walk_to(region, crisis, "de_escalating")
    before = written(crisis)
    with pytest.raises(InvalidInput):
        services.transition_crisis(
            by=region.operator_a, desk=region.desk_a, crisis=crisis, to_status="active"
        )
    assert written(crisis) == before
    # re-escalation may come from the lead desk's operator; the ladder starts again
    services.acknowledge_crisis(by=region.operator_b, desk=region.desk_b, crisis=crisis)
    crisis = services.transition_crisis(
        by=region.operator_a, desk=region.desk_a, crisis=crisis, to_status="active", reason="Fire"
    )
    assert crisis.escalation_state == EscalationState.ESCALATING and crisis.current_level == 1


def test_resolution_finishes_the_escalation(region, protocol):
    crisis = walk_to(region, report(region), "resolved")
    assert crisis.escalation_state == EscalationState.FINISHED and crisis.level_deadline_at is None
    assert crisis.resolved_at is not None


def test_acknowledge(region, protocol):
    crisis = report(region)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.acknowledge_crisis(by=region.operator_b, desk=region.desk_b, crisis=crisis)
    assert refused.value.code == "nothing_to_acknowledge"
    crisis = activate(region, crisis)
    with pytest.raises(NotFound):
        services.acknowledge_crisis(by=region.operator_c, desk=region.desk_c, crisis=crisis)
    with pytest.raises(PermissionDenied):
        services.acknowledge_crisis(by=region.auditor, desk=region.centre, crisis=crisis)
    crisis = services.acknowledge_crisis(by=region.operator_b, desk=region.desk_b, crisis=crisis)
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED
    assert crisis.level_deadline_at is None
    ack = EscalationAck.objects.get()
    assert (ack.desk, ack.level, ack.acknowledged_by) == (region.desk_b, 1, region.operator_b)
    count = TimelineEntry.objects.count()
    services.acknowledge_crisis(by=region.operator_b, desk=region.desk_b, crisis=crisis)
    assert TimelineEntry.objects.count() == count and EscalationAck.objects.count() == 1


def test_tasks_done_and_undone_by_their_desk_only(region, protocol):
    crisis = activate(region, report(region))
    task = crisis.tasks.get(desk=region.desk_b, item_order=3)
    with pytest.raises(PermissionDenied):
        services.set_task_done(by=region.operator_a, task=task, done=True)
    with pytest.raises(PermissionDenied):
        services.set_task_done(by=region.auditor, task=task, done=True)
    with pytest.raises(NotFound):
        services.set_task_done(by=region.operator_c, task=task, done=True)
    task = services.set_task_done(by=region.operator_b, task=task, done=True)
    assert task.done_by == region.operator_b and task.done_at is not None
    task = services.set_task_done(by=region.supervisor_b, task=task, done=False)
    assert task.done_by is None and task.done_at is None
    assert kinds(crisis)[-2:] == ["task_done", "task_undone"]
    crisis = walk_to(region, crisis, "resolved")
    with pytest.raises(TransitionNotAllowed):
        services.set_task_done(by=region.operator_b, task=task, done=True)


def test_severity_change_is_recorded(region):
    crisis = report(region)
    with pytest.raises(InvalidInput):
        services.change_severity(
            by=region.operator_a, desk=region.desk_a, crisis=crisis, severity=9
        )
    with pytest.raises(PermissionDenied):
        services.change_severity(
            by=region.operator_b, desk=region.desk_b, crisis=crisis, severity=4
        )
    crisis = services.change_severity(
        by=region.operator_a, desk=region.desk_a, crisis=crisis, severity=5, reason="Oil slick"
    )
    assert crisis.severity == 5
    entry = TimelineEntry.objects.filter(crisis=crisis).last()
    assert (entry.kind, entry.payload) == (
        "severity_changed",
        {"from": 3, "to": 5, "reason": "Oil slick"},
    )
    assert list(crisis.cap_alerts.values_list("msg_type", flat=True)) == ["Alert", "Update"]


def test_participants_change_with_a_trace(region, protocol):
    crisis = activate(region, report(region))
    with pytest.raises(PermissionDenied):
        services.set_participant(
            by=region.operator_b, crisis=crisis, desk=region.desk_c, role="supporting"
        )
    services.set_participant(
        by=region.coordinator, crisis=crisis, desk=region.desk_c, role="supporting"
    )
    assert list(crisis.tasks.filter(desk=region.desk_c).values_list("item_order", flat=True)) == [1]
    # the supporting desk now sees the crisis and may post updates
    update = services.post_situation_update(
        by=region.operator_c, desk=region.desk_c, crisis=crisis, conditions="Two ships sent."
    )
    assert update.crisis == crisis
    services.set_participant(by=region.operator_a, crisis=crisis, desk=region.desk_b, role="lead")
    crisis.refresh_from_db()
    assert crisis.lead_desk == region.desk_b
    assert dict(crisis.participants.values_list("desk__code", "role")) == {
        "AAA-DESK": "affected",
        "BBB-DESK": "lead",
        "CCC-DESK": "supporting",
    }
    assert crisis.tasks.filter(desk=region.desk_b, item_order=2).exists()  # lead's item
    changes = [
        e.payload for e in TimelineEntry.objects.filter(kind="participant_changed").order_by("seq")
    ]
    assert changes[0]["desk"] == "CCC-DESK" and changes[0]["to"] == "supporting"
    assert changes[1]["previous_lead"] == {"desk": "AAA-DESK", "now": "affected"}
    with pytest.raises(TransitionNotAllowed):
        services.set_participant(
            by=region.coordinator, crisis=crisis, desk=region.desk_b, role="observer"
        )


def test_situation_updates(region):
    crisis = report(region)
    with pytest.raises(InvalidInput):
        services.post_situation_update(
            by=region.operator_b, desk=region.desk_b, crisis=crisis, conditions=" "
        )
    first = services.post_situation_update(
        by=region.operator_b, desk=region.desk_b, crisis=crisis, conditions="Calm", needs="Tugs"
    )
    second = services.post_situation_update(
        by=region.operator_a, desk=region.desk_a, crisis=crisis, conditions="Worse", actions="SAR"
    )
    crisis.refresh_from_db()
    assert crisis.latest_update == second and SituationUpdate.objects.count() == 2
    entry = TimelineEntry.objects.filter(kind="situation_update").first()
    assert entry.payload == {
        "update_id": first.pk,
        "tlp": "GREEN",
        "conditions": "Calm",
        "actions": "",
        "needs": "Tugs",
    }
    with pytest.raises(NotFound):
        services.post_situation_update(
            by=region.operator_c, desk=region.desk_c, crisis=crisis, conditions="?"
        )


def test_whole_lifecycle_chain_verifies_and_verify_timeline_finds_tampering(
    region, protocol, capsys
):
    from django.db import connection

    crisis = activate(region, report(region))
    services.acknowledge_crisis(by=region.operator_b, desk=region.desk_b, crisis=crisis)
    services.change_severity(by=region.operator_a, desk=region.desk_a, crisis=crisis, severity=4)
    walk_to(region, crisis, "closed")
    assert timeline.verify_all() == []
    call_command("verify_timeline")
    assert "intact" in capsys.readouterr().out

    target = TimelineEntry.objects.get(crisis=crisis, kind="severity_changed")
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE crisis_timelineentry SET payload = %s WHERE id = %s",
            ['{"from": 3, "to": 1, "reason": ""}', target.pk],
        )
        cursor.execute("SET session_replication_role = DEFAULT")
    with pytest.raises(SystemExit) as exited:
        call_command("verify_timeline")
    assert exited.value.code == 1
    out = capsys.readouterr()
    assert f"crisis:{crisis.pk}" in out.err and f"#{target.seq}" in out.err


def test_demo_crisis_is_seeded_once_and_activated_on_the_demo_protocol(capsys):
    from crisis.demo_crises import TITLE

    call_command("seed_demo")
    call_command("seed_demo")
    crisis = Crisis.objects.get(title=TITLE)
    assert crisis.status == "active" and crisis.reported_by_desk.code == "THA-DDPM"
    assert sorted(crisis.affected_states.values_list("code", flat=True)) == ["MYS", "THA"]
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED
    assert crisis.latest_update is not None and crisis.tasks.exists()
    assert timeline.verify_all() == []


# Who may make each transition, per caller (explicit, not derived from the table).
ALLOWED = {
    "activate": {"supervisor_a", "coordinator"},
    "dismiss": {"supervisor_a", "coordinator"},
    "de_escalate": {"supervisor_a", "coordinator"},
    "re_escalate": {"operator_a", "supervisor_a", "supervisor_b", "coordinator"},
    "resolve": {"supervisor_a", "coordinator"},
    "close": {"supervisor_a", "coordinator"},
}
CALLERS = {
    "operator_a": "desk_a",  # lead desk
    "supervisor_a": "desk_a",
    "operator_b": "desk_b",  # affected state's desk
    "supervisor_b": "desk_b",
    "coordinator": "centre",
    "auditor": "centre",
    "operator_c": "desk_c",  # unaffected state: the crisis does not exist for it
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("step", TRANSITIONS, ids=lambda t: t.verb)
def test_who_may_make_each_transition(region, protocol, caller, step):
    crisis = walk_to(region, report(region), step.source)
    before = written(crisis)
    call = lambda: services.transition_crisis(  # noqa: E731
        by=getattr(region, caller),
        desk=getattr(region, CALLERS[caller]),
        crisis=crisis,
        to_status=step.target,
        reason="Checked by phone with the lead desk.",
    )
    if caller in ALLOWED[step.verb]:
        assert call().status == step.target
    else:
        with pytest.raises(NotFound if caller == "operator_c" else PermissionDenied):
            call()
        assert written(crisis) == before


@pytest.mark.django_db(transaction=True)
def test_concurrent_activations_one_wins_one_is_refused(region, protocol):
    import threading

    from django.db import connection

    crisis = report(region)
    barrier = threading.Barrier(2, timeout=10)
    outcomes = []

    def act(user, desk):
        try:
            barrier.wait()
            services.transition_crisis(by=user, desk=desk, crisis=crisis, to_status="active")
            outcomes.append("activated")
        except TransitionNotAllowed:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(region.supervisor_a, region.desk_a)),
        threading.Thread(target=act, args=(region.coordinator, region.centre)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["activated", "refused"]
    assert TimelineEntry.objects.filter(crisis=crisis, kind="status_changed").count() == 1
    assert CrisisTask.objects.filter(crisis=crisis).count() == 4
    assert timeline.verify_all() == []
