"""A large displacement import goes to a real Celery worker, and progress shows it done.

The worker runs against the test database and a private Redis broker (never the shared
one), and is stopped at the end whatever happens.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from humanitarian.models import DisplacementReport, ImportJob, ImportStatus
from humanitarian.services import displacement
from tests.humanitarian.conftest import make_crisis
from tests.support.redis import PrivateRedis

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker():
    from config.celery import app

    broker = PrivateRedis().start()
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{auth}@{host}/{db['NAME']}",  # the test database
        "REDIS_URL": broker.url,
        "CELERY_BROKER_URL": broker.url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-Q", "default",
         "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    old_url = app.conf.broker_url
    app.conf.broker_url = broker.url
    app._after_fork()  # drop pooled connections to the old broker
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        app.conf.broker_url = old_url
        app._after_fork()
        broker.stop()


def wait_for(predicate, timeout=60.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_large_import_runs_on_a_worker(region, worker, monkeypatch):
    monkeypatch.setattr(displacement, "INLINE_ROWS", 50)
    crisis = make_crisis(region)
    header = (
        "country_code,country_name,admin1_name,admin1_code,reported_on,round,idps,refugees,source\n"
    )
    rows = "".join(f"AAA,State A,Area {i},AA-{i:03d},2025-11-20,1,{i},0,DTM\n" for i in range(400))
    job = displacement.start_import(
        by=region.operator_a, desk=region.desk_a, crisis=crisis, content=header + rows
    )
    assert job.status == ImportStatus.PENDING and job.total_rows == 400

    def finished():
        job.refresh_from_db()
        return job.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)

    assert wait_for(finished), f"worker did not finish: {worker.poll()}"
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert (job.created_count, job.progress_percent) == (400, 100)
    assert DisplacementReport.objects.filter(import_job=job).count() == 400
    assert ImportJob.objects.count() == 1
