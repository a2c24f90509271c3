"""The deadline engine at the service level: fire once, cancel, re-arm, sweep, watchdog."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput
from deadlines import services as deadlines
from deadlines.models import Deadline, DeadlineProbe, DeadlineState, SweepHeartbeat
from deadlines.services import (
    PROBE_KIND,
    DeadlineSpec,
    cancel_deadlines,
    fire_deadline,
    fire_due_deadlines,
    register_handler,
    schedule_deadline,
    schedule_deadlines_bulk,
    sweep,
)
from tests.support.concurrency import run_together

pytestmark = pytest.mark.django_db


def probes(deadline: Deadline) -> int:
    return DeadlineProbe.objects.filter(deadline_id=deadline.pk).count()


def arm(key="s:1", seconds=-1.0, kind=PROBE_KIND, **payload) -> Deadline:
    due = timezone.now() + timedelta(seconds=seconds)
    return schedule_deadline(kind=kind, subject_key=key, due_at=due, payload=payload or None)


@pytest.fixture
def failing_kind():
    calls = []

    @register_handler("test.failing")
    def handler(deadline):
        calls.append(deadline.pk)
        DeadlineProbe.objects.create(
            deadline_id=deadline.pk, due_at=deadline.due_at, fired_at=timezone.now()
        )
        raise RuntimeError("handler broke")

    yield calls
    deadlines.HANDLERS.pop("test.failing")


def test_fires_once_with_its_token_and_never_again():
    d = arm()
    assert fire_deadline(d.pk, d.token) is True
    assert fire_deadline(d.pk, d.token) is False
    assert fire_deadline(d.pk) is False
    d.refresh_from_db()
    assert d.state == DeadlineState.FIRED and d.fired_at is not None
    assert probes(d) == 1


def test_not_yet_due_task_leaves_it_pending():
    d = arm(seconds=30)
    assert fire_deadline(d.pk, d.token) is False
    assert Deadline.objects.get(pk=d.pk).state == DeadlineState.PENDING


def test_cancel_then_late_task_is_a_no_op():
    d = arm()
    assert cancel_deadlines(kind=PROBE_KIND, subject_key="s:1") == 1
    assert fire_deadline(d.pk, d.token) is False
    assert fire_due_deadlines() == 0 and sweep()["fired"] == 0
    d.refresh_from_db()
    assert d.state == DeadlineState.CANCELLED and probes(d) == 0
    assert cancel_deadlines(subject_key="s:1") == 0


def test_rearm_makes_the_old_task_stale():
    first = arm(seconds=-1)
    old_token = first.token
    again = arm(seconds=-0.5)
    assert again.pk == first.pk and again.token != old_token
    assert Deadline.objects.filter(subject_key="s:1", state="pending").count() == 1
    assert fire_deadline(first.pk, old_token) is False
    assert fire_deadline(first.pk, again.token) is True
    assert probes(first) == 1


def test_unknown_kind_and_naive_time_are_refused():
    with pytest.raises(InvalidInput) as exc:
        arm(kind="no.such.kind")
    assert exc.value.code == "unknown_deadline_kind"
    with pytest.raises(InvalidInput):
        schedule_deadline(
            kind=PROBE_KIND, subject_key="x", due_at=timezone.now().replace(tzinfo=None)
        )
    assert not Deadline.objects.exists()


def test_near_deadlines_are_enqueued_on_commit_far_ones_wait_for_the_sweep(
    django_capture_on_commit_callbacks, settings
):
    settings.DEADLINE_ENQUEUE_HORIZON_SECONDS = 60
    with django_capture_on_commit_callbacks() as callbacks:
        near = arm("near", seconds=5)
        far = arm("far", seconds=3600)
    assert len(callbacks) == 1
    near.refresh_from_db()
    far.refresh_from_db()
    assert near.enqueued_at is not None and far.enqueued_at is None
    # The sweep hands the far one over once it is within the horizon.
    with django_capture_on_commit_callbacks() as callbacks:
        result = sweep(now=timezone.now() + timedelta(seconds=3590))
    assert result["enqueued"] == 1 and len(callbacks) == 1
    far.refresh_from_db()
    assert far.enqueued_at is not None


def test_a_failing_handler_rolls_back_and_is_retried_later(failing_kind, settings):
    settings.DEADLINE_RETRY_DELAY_SECONDS = 0
    d = arm(kind="test.failing")
    assert fire_deadline(d.pk, d.token) is False
    d.refresh_from_db()
    assert d.state == DeadlineState.PENDING and d.attempts == 1
    assert "handler broke" in d.last_error
    assert probes(d) == 0  # the handler's own write rolled back with it
    assert failing_kind == [d.pk]


def test_one_bad_deadline_does_not_hold_up_a_batch(failing_kind):
    good = [arm(f"g:{i}") for i in range(5)]
    bad = arm("bad", kind="test.failing")
    assert fire_due_deadlines() == 5
    assert all(probes(d) == 1 for d in good)
    bad.refresh_from_db()
    assert bad.state == DeadlineState.PENDING and bad.attempts == 1
    # Not retried before the retry delay: the loop does not spin on it.
    assert fire_due_deadlines() == 0 and bad.attempts == 1


def test_a_handler_can_arm_the_next_step_of_the_same_subject():
    fired = []

    @register_handler("test.chain")
    def chain(deadline):
        fired.append(deadline.payload["step"])
        if deadline.payload["step"] < 3:
            schedule_deadline(
                kind="test.chain",
                subject_key=deadline.subject_key,
                due_at=timezone.now() - timedelta(seconds=1),
                payload={"step": deadline.payload["step"] + 1},
            )

    try:
        arm("chain:1", kind="test.chain", step=1)
        while fire_due_deadlines():
            pass
        assert fired == [1, 2, 3]
        rows = Deadline.objects.filter(subject_key="chain:1")
        assert rows.count() == 3 and set(rows.values_list("state", flat=True)) == {"fired"}
    finally:
        deadlines.HANDLERS.pop("test.chain")


def test_bulk_arming_replaces_pending_and_sweep_fires_overdue(
    django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    old = arm("bulk:0", seconds=100)
    now = timezone.now()
    specs = [
        DeadlineSpec(PROBE_KIND, f"bulk:{i}", now - timedelta(seconds=5) + timedelta(seconds=i))
        for i in range(10)
    ]
    with django_assert_max_num_queries(8), django_capture_on_commit_callbacks() as callbacks:
        created = schedule_deadlines_bulk(specs)
    assert len(created) == 10 and len(callbacks) == 1
    rows = Deadline.objects.in_bulk(created)
    assert [rows[pk].subject_key for pk in created] == [s.subject_key for s in specs]
    old.refresh_from_db()
    assert old.state == DeadlineState.CANCELLED
    result = sweep()
    # Those overdue by more than the rescue grace fire now; the rest are their tasks' job.
    assert result["fired"] >= 3
    assert DeadlineProbe.objects.count() == result["fired"]
    heartbeat = SweepHeartbeat.objects.get()
    assert heartbeat.fired == result["fired"]


def test_watchdog_reports_a_stale_sweep_and_overdue_deadlines(client, admin_client, settings):
    assert "never run" in deadlines.check_health()
    sweep()
    assert deadlines.check_health() is None
    ready = client.get("/status").json()
    assert ready["checks"]["deadlines"] == "ok"

    SweepHeartbeat.objects.update(swept_at=timezone.now() - timedelta(minutes=5))
    d = arm("late", seconds=-120)
    Deadline.objects.filter(pk=d.pk).update(due_at=timezone.now() - timedelta(minutes=2))
    response = client.get("/status")
    assert response.status_code == 503
    assert response.json()["checks"]["deadlines"] == "failing"  # the reason is for staff
    reason = admin_client.get("/status").json()["checks"]["deadlines"]
    assert "sweep last ran" in reason and "1 pending deadline(s) overdue" in reason


def test_operational_view_is_for_coordinators_and_staff(api_client, region):
    arm("view:1", seconds=-100)
    arm("view:2", seconds=600)
    fire_deadline(arm("view:3").pk)
    sweep(now=timezone.now() - timedelta(seconds=200))  # a heartbeat, nothing fired
    SweepHeartbeat.objects.update(swept_at=timezone.now() - timedelta(minutes=5))

    for user in (region.operator_a, region.supervisor_b, region.auditor):
        api_client.force_authenticate(user)
        response = api_client.get("/api/v1/deadlines/")
        assert response.status_code == 403, user
        assert response.json()["code"] == "permission_denied"
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/deadlines/").status_code == 401

    api_client.force_authenticate(region.coordinator)
    response = api_client.get("/api/v1/deadlines/")
    assert response.status_code == 200
    body = response.json()
    assert body["summary"]["pending"] == 2 and body["summary"]["overdue"] == 1
    assert body["summary"]["sweep"]["stale"] is True
    assert body["summary"]["recent_firings"]["count"] == 1
    assert [row["subject_key"] for row in body["results"]] == ["view:1", "view:2"]
    assert body["results"][0]["overdue_seconds"] >= 99
    assert api_client.get("/api/v1/deadlines/?state=fired").json()["count"] == 1
    bad = api_client.get("/api/v1/deadlines/?state=exploded")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


@pytest.mark.parametrize("command", ["deadlines_status", "escalation_status"])
def test_deadlines_status_command(capsys, command):
    """``deadlines_status`` (and its old name, ``escalation_status``) report the engine."""
    arm("cmd:1", seconds=-100)
    with pytest.raises(SystemExit) as exc:
        call_command(command)
    assert exc.value.code == 1
    out = capsys.readouterr().out
    assert "pending: 1" in out and "never run" in out and "cmd:1" in out
    sweep()
    call_command(command, "--json")
    assert '"ok": true' in capsys.readouterr().out


# --- concurrency: two database connections ------------------------------------------------


def _in_threads(*targets):
    errors = run_together(*targets)
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(5))
def test_concurrent_firers_fire_once(round_):
    d = arm(f"race:{round_}")
    results = []
    _in_threads(
        lambda: results.append(fire_deadline(d.pk, d.token)),
        lambda: results.append(fire_deadline(d.pk, d.token)),
        lambda: results.append(fire_due_deadlines()),
        lambda: results.append(sweep(now=timezone.now() + timedelta(seconds=5))["fired"]),
    )
    assert sum(int(r) for r in results) == 1
    assert probes(d) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(6))
def test_cancel_racing_the_firing_has_exactly_one_outcome(round_):
    d = arm(f"ack:{round_}")
    outcome = {}

    def ack():
        with transaction.atomic():
            outcome["cancelled"] = cancel_deadlines(subject_key=d.subject_key)

    def expire():
        outcome["fired"] = fire_deadline(d.pk, d.token)

    _in_threads(ack, expire) if round_ % 2 else _in_threads(expire, ack)
    d.refresh_from_db()
    assert outcome["cancelled"] + int(outcome["fired"]) == 1
    assert d.state == (DeadlineState.FIRED if outcome["fired"] else DeadlineState.CANCELLED)
    assert probes(d) == int(outcome["fired"])


@pytest.fixture(autouse=True)
def _drop_sent_tasks(settings):
    """Tasks sent on commit by transactional tests go to our Redis index: drop them."""
    yield
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("escalation")
    client.close()


def test_a_slow_batch_commits_what_it_reached_and_hands_back_the_rest():
    seen = []

    @register_handler("test.slow")
    def slow(deadline):
        seen.append(deadline.pk)
        DeadlineProbe.objects.create(
            deadline_id=deadline.pk, due_at=deadline.due_at, fired_at=timezone.now()
        )

    try:
        for i in range(30):
            arm(f"slow:{i}", kind="test.slow")
        for i in range(5):
            arm(f"probe:{i}")  # a batch kind: fired in one call per batch
        # A zero batch time: every batch stops after one handler and hands the rest back.
        assert fire_due_deadlines(batch_seconds=0) == 35
        assert len(seen) == 30 and DeadlineProbe.objects.count() == 35
        assert not Deadline.objects.filter(state="pending").exists()
    finally:
        deadlines.HANDLERS.pop("test.slow")
