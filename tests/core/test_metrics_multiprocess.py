"""Two real web processes and a real Celery worker count into one
``PROMETHEUS_MULTIPROC_DIR``: a scrape of either web process shows the sums over all of
them, and what a process counted outlives it."""

from __future__ import annotations

import tempfile
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from deadlines.models import DeadlineProbe
from deadlines.services import PROBE_KIND, schedule_deadline
from tests.support.asgi import AsgiServer, database_url
from tests.support.celery_worker import Worker, broker, wait_for
from tests.support.metrics import TOKEN, scrape_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status


def test_web_processes_and_a_worker_are_summed_in_one_scrape(private_redis):
    metrics_dir = Path(tempfile.mkdtemp(prefix="test-metrics-"))
    env = {
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "METRICS_TOKEN": TOKEN,
        "CELERY_BROKER_URL": private_redis.url,
    }
    db_url = database_url(connection.settings_dict)
    servers = [
        AsgiServer(database_url=db_url, redis_url=private_redis.url, env=env) for _ in range(2)
    ]
    worker = Worker(private_redis.url, beat=False, concurrency=1, **env)
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        worker.start()
        a, b = (f"http://127.0.0.1:{s.port}" for s in servers)
        for _ in range(3):
            assert get(f"{a}/healthz") == 200
        for _ in range(5):
            assert get(f"{b}/healthz") == 200

        # The worker fires a deadline: its lateness is counted in the worker's process.
        with broker(private_redis.url), transaction.atomic():
            deadline = schedule_deadline(
                kind=PROBE_KIND,
                subject_key="probe:multiprocess",
                due_at=timezone.now() + timedelta(milliseconds=200),
            )
        wait_for(
            lambda: DeadlineProbe.objects.filter(deadline_id=deadline.pk).exists(),
            timeout=30,
            what="the worker to fire the probe",
        )

        def healthz(scrape):
            return scrape.value(
                "crisis_http_requests_total", method="GET", route="healthz", status="200"
            )

        seen_by_a, seen_by_b = scrape_url(a), scrape_url(b)
        # wait_ready's probes count too (at least one per server): 3 + 5 + those.
        assert healthz(seen_by_a) == healthz(seen_by_b) >= 8 + 2
        lateness = "crisis_deadline_lateness_seconds_count"
        wait_for(
            lambda: scrape_url(a).value(lateness, kind=PROBE_KIND) == 1,
            timeout=10,
            what="the worker's count in the web process's scrape",
        )
        # Each process wrote its own files, named by host and pid.
        owners = {p.stem.split("_", 1)[1] for p in metrics_dir.glob("counter_*.db")}
        assert len(owners) >= 3, owners

        # A process's counts outlive it: kill b, a still shows b's requests.
        total = healthz(seen_by_a)
        servers[1].kill()
        assert healthz(scrape_url(a)) == total
    finally:
        worker.stop()
        for server in servers:
            server.stop()
