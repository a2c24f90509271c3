"""The deadline engine against real processes: a Celery worker (with beat) on a private
Redis, SIGKILLed, restarted, its broker flushed and restarted. Exactly-once is counted
from the handler's effects (one DeadlineProbe row per firing), not trusted to Celery.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import redis
from django.db.models import Count
from django.utils import timezone

from deadlines.models import Deadline, DeadlineProbe
from deadlines.services import (
    PROBE_KIND,
    DeadlineSpec,
    schedule_deadline,
    schedule_deadlines_bulk,
)
from deadlines.tasks import fire_deadline_task
from tests.support.celery_worker import Worker, broker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers():
    started: list[Worker] = []

    def make(url: str, **env) -> Worker:
        worker = Worker(url, **env)
        started.append(worker)
        return worker

    try:
        yield make
    finally:
        for worker in started:
            worker.stop()


def arm(prefix: str, *, single: int, bulk: int, start: float, spread: float) -> list[int]:
    """Arm ``single`` deadlines one by one (a task each) and ``bulk`` in one batch."""
    now = timezone.now()
    ids = []
    for i in range(single):
        due = now + timedelta(seconds=start + spread * i / max(single, 1))
        ids.append(schedule_deadline(kind=PROBE_KIND, subject_key=f"{prefix}:s{i}", due_at=due).pk)
    specs = [
        DeadlineSpec(
            PROBE_KIND, f"{prefix}:b{i}", now + timedelta(seconds=start + spread * i / bulk)
        )
        for i in range(bulk)
    ]
    ids += schedule_deadlines_bulk(specs)
    return ids


def firings(ids: list[int]) -> dict[int, int]:
    rows = (
        DeadlineProbe.objects.filter(deadline_id__in=ids)
        .values_list("deadline_id")
        .annotate(n=Count("id"))
    )
    return dict(rows)


def wait_all_fired(ids: list[int], timeout: float, supervise: Worker | None = None):
    def done():
        if supervise is not None:
            supervise.ensure_running()
        return len(firings(ids)) == len(ids)

    wait_for(done, timeout=timeout, what=f"{len(ids)} firings")
    return firings(ids)


def assert_exactly_once(ids: list[int]) -> None:
    counts = firings(ids)
    assert len(counts) == len(ids), f"missed: {len(ids) - len(counts)}"
    assert {n for n in counts.values()} == {1}, {k: n for k, n in counts.items() if n > 1}
    assert Deadline.objects.filter(pk__in=ids, state="fired").count() == len(ids)


def worker_holds_everything(client: redis.Redis) -> bool:
    """Every sent task has left the queue list for the worker's memory (unacked)."""
    return client.llen("escalation") == 0 and client.hlen("unacked") > 0


def test_fires_on_time_then_through_sigkill_and_a_flushed_queue(private_redis, workers):
    client = redis.Redis(port=private_redis.port)
    worker = workers(private_redis.url).start()
    with broker(private_redis.url):
        # 1. Plain operation: everything fires, once, close to its due time.
        ids = arm("a", single=10, bulk=100, start=1.5, spread=1.5)
        wait_all_fired(ids, timeout=20)
        assert_exactly_once(ids)
        lateness = sorted(p.lateness_seconds for p in DeadlineProbe.objects.all())
        assert lateness[0] >= -0.3 and lateness[-1] < 2.0, lateness

        # 2. SIGKILL the worker (and its beat) while it holds every pending ETA task.
        killed = arm("b", single=10, bulk=50, start=2.5, spread=1.0)
        wait_for(lambda: worker_holds_everything(client), timeout=10, what="worker to reserve")
        worker.kill()
        assert not firings(killed)
        worker.start()
        wait_all_fired(killed, timeout=30)

        # 3. Tasks lost: armed while no worker runs, then the broker's data is flushed.
        worker.kill()
        lost = arm("c", single=10, bulk=20, start=1.0, spread=1.0)
        assert client.llen("escalation") > 0
        client.flushall()
        worker.start()
        wait_all_fired(lost, timeout=30)

        time.sleep(1.5)  # let any late duplicate show itself
        for batch in (ids, killed, lost):
            assert_exactly_once(batch)
    client.close()


def test_redis_restart_loses_no_deadline(private_redis, workers):
    """celery #1307: ETA tasks held by a worker are gone when Redis restarts empty.

    Celery/kombu may also crash the worker while it restores unacknowledged messages to
    the dead broker (AttributeError in kombu's ``_connparams``); like compose's
    ``restart: unless-stopped`` the test restarts it. Nothing is lost either way.
    """
    client = redis.Redis(port=private_redis.port)
    worker = workers(private_redis.url).start()
    with broker(private_redis.url):
        ids = arm("r", single=10, bulk=20, start=3.0, spread=1.0)
        wait_for(lambda: worker_holds_everything(client), timeout=10, what="worker to reserve")
        private_redis.restart()  # not persistent: every queued and reserved task is gone
        wait_all_fired(ids, timeout=40, supervise=worker)
        time.sleep(1.0)
        assert_exactly_once(ids)
    client.close()


def test_deadline_beyond_the_visibility_timeout_fires_once(private_redis, workers, settings):
    """celery #2599 / kombu #337: Redis redelivers an ETA task unacked past the visibility
    timeout. The engine never hands the broker such an ETA, and a naive one that is
    redelivered anyway finds its deadline fired."""
    settings.DEADLINE_ENQUEUE_HORIZON_SECONDS = 1
    worker = workers(
        private_redis.url,
        CELERY_VISIBILITY_TIMEOUT=2,
        DEADLINE_ENQUEUE_HORIZON_SECONDS=1,
        DJANGO_SETTINGS_MODULE="tests.support.worker_settings",
    ).start()
    with broker(private_redis.url):
        due = timezone.now() + timedelta(seconds=6)
        engine = schedule_deadline(kind=PROBE_KIND, subject_key="vt:engine", due_at=due)
        assert Deadline.objects.get(pk=engine.pk).enqueued_at is None  # waits in the DB
        naive = schedule_deadline(kind=PROBE_KIND, subject_key="vt:naive", due_at=due)
        sent = fire_deadline_task.apply_async((naive.pk, str(naive.token)), eta=due)

        wait_all_fired([engine.pk, naive.pk], timeout=30)
        time.sleep(2.5)  # redelivered copies run at the same ETA: give them time
        assert_exactly_once([engine.pk, naive.pk])
        probe = DeadlineProbe.objects.get(deadline_id=engine.pk)
        assert probe.lateness_seconds < 1.5
    # The hazard is real: the broker delivered the naive task more than once.
    received = re.findall(rf"fire_deadline\[{sent.id}\] received", worker.log())
    assert len(received) >= 2, worker.log()[-3000:]


SQLITE_SCRIPT = """
from datetime import timedelta
from django.db import transaction
from django.utils import timezone
from deadlines.models import DeadlineProbe
from deadlines import services as d
past = timezone.now() - timedelta(seconds=5)
with transaction.atomic():
    one = d.schedule_deadline(kind=d.PROBE_KIND, subject_key="one", due_at=past)
    d.schedule_deadlines_bulk([d.DeadlineSpec(d.PROBE_KIND, f"b{i}", past) for i in range(600)])
    d.schedule_deadline(kind=d.PROBE_KIND, subject_key="gone", due_at=past)
    assert d.cancel_deadlines(subject_key="gone") == 1
assert d.fire_deadline(one.pk, one.token) and not d.fire_deadline(one.pk, one.token)
assert d.sweep()["fired"] == 600 and d.sweep()["fired"] == 0
print("probes", DeadlineProbe.objects.count())
"""


def test_the_engine_works_on_sqlite_for_the_demo(tmp_path, private_redis):
    """``make run`` uses SQLite: no row locks or SKIP LOCKED there, same outcomes."""
    import subprocess
    import sys

    from tests.support.celery_worker import ROOT

    env = {
        **__import__("os").environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "CELERY_BROKER_URL": private_redis.url,  # nothing consumes: the sweep fires
    }
    manage = [sys.executable, "manage.py"]
    for args in (["migrate", "-v0"], ["shell", "-c", SQLITE_SCRIPT]):
        result = subprocess.run(
            manage + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert "probes 601" in result.stdout


def test_crisis_levels_expire_exactly_once_through_a_sigkill(private_redis, workers, region):
    """The real handler on a real worker: each crisis's level 1 expires once, level 2 is
    entered once, counted from the timeline, although the worker dies holding the timers."""
    from crisis.models import EscalationState, TimelineEntry
    from tests.crisis.escalation_support import AFFECTED, REGION, make_crisis, make_protocol

    client = redis.Redis(port=private_redis.port)
    worker = workers(private_redis.url).start()
    version = make_protocol(levels=({**AFFECTED, "timeout_seconds": 3}, REGION))
    with broker(private_redis.url):
        crises = [make_crisis(region, version) for _ in range(6)]
        wait_for(lambda: worker_holds_everything(client), timeout=10, what="worker to reserve")
        worker.kill()
        worker.start()

        def at_level_two():
            return all(
                TimelineEntry.objects.filter(
                    crisis=c, kind="level_entered", payload__level=2
                ).exists()
                for c in crises
            )

        wait_for(at_level_two, timeout=30, what="every crisis at level 2")
        time.sleep(1.5)
    for crisis in crises:
        entries = list(crisis.timeline.order_by("seq").values_list("kind", "payload__level"))
        assert entries == [("level_entered", 1), ("level_expired", 1), ("level_entered", 2)]
        crisis.refresh_from_db()
        assert crisis.escalation_state == EscalationState.ESCALATING and crisis.current_level == 2
    client.close()
