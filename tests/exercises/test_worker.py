"""A scenario played by a real Celery worker (with beat) that is SIGKILLed while it holds
the injects' timers: every inject plays once, on time, counted from its effects."""

from __future__ import annotations

import time

import pytest
import redis
from django.db.models import Count
from django.utils import timezone

from crisis.models import SituationUpdate, TimelineEntry
from exercises import services
from exercises.models import InjectStatus
from tests.support.celery_worker import Worker, broker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

COUNT = 12


def offset(i: int) -> int:
    """Half the injects are due just after the kill (their ETA tasks die with the worker),
    half well after it is back."""
    return 5 + i // 3 if i < COUNT // 2 else 40 + i // 3


def scenario_text() -> str:
    injects = "".join(
        f"  - at: T+{offset(i)} s\n"
        f"    type: situation_update\n"
        f"    desk: {'AAA-DESK' if i % 2 else 'BBB-DESK'}\n"
        f"    conditions: Report number {i}.\n"
        for i in range(COUNT)
    )
    return (
        "name: Worker drill\ncrisis:\n  category: flood\n  title: River flood (drill)\n"
        "  severity: 3\n  affected_states: [AAA, BBB]\n  lead_desk: AAA-DESK\n"
        f"injects:\n{injects}"
    )


def test_injects_play_once_on_time_through_a_worker_sigkill(private_redis, region):
    key = services.upload_scenario(by=region.coordinator, source=scenario_text()).key
    client = redis.Redis(port=private_redis.port)
    worker = Worker(private_redis.url).start()
    try:
        with broker(private_redis.url):
            run = services.start_run(by=region.coordinator, scenario_key=key)

            def holds_every_timer():
                return client.llen("escalation") == 0 and client.hlen("unacked") > 0

            wait_for(holds_every_timer, timeout=10, what="the worker to hold the timers")
            assert not run.injects.exclude(status=InjectStatus.SCHEDULED).exists()
            worker.kill()  # SIGKILL, with beat: every held ETA task dies with it
            worker.start()
            back_at = (timezone.now() - run.started_at).total_seconds()
            assert back_at < 38, f"the worker took {back_at:.0f} s to come back"

            def all_played():
                return not run.injects.exclude(status=InjectStatus.PLAYED).exists()

            wait_for(all_played, timeout=60, what="every inject to play")
            time.sleep(1.5)  # let any late duplicate show itself
    finally:
        worker.stop()
        client.close()

    updates = (
        SituationUpdate.objects.filter(crisis=run.crisis)
        .values_list("conditions")
        .annotate(n=Count("id"))
    )
    counts = dict(updates)
    assert set(counts) == {f"Report number {i}." for i in range(COUNT)}
    assert set(counts.values()) == {1}, counts  # each inject exactly once
    entries = TimelineEntry.objects.filter(crisis=run.crisis, kind="exercise_inject")
    assert sorted(e.payload["inject_id"] for e in entries) == sorted(
        run.injects.values_list("pk", flat=True)
    )
    late = {
        i.pk: (i.at_seconds, (i.played_at - i.due_at).total_seconds()) for i in run.injects.all()
    }
    assert min(s for _at, s in late.values()) >= -0.3, late
    during = [s for at, s in late.values() if at < 40]
    after = [s for at, s in late.values() if at >= 40]
    # Their timers died with the worker: played as soon as it is back (or on time if it
    # was back by then), by a redelivered task or the beat's sweep (every second).
    assert max(during) < back_at + 5, late
    # Due once it is back: on time.
    assert max(after) < 2.0, late
    print(
        f"inject lateness: armed before the kill max {max(during):.2f} s (worker back at "
        f"T+{back_at:.1f} s); due after max {max(after):.2f} s"
    )
