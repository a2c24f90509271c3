"""Import jobs with the broker down, and jobs a worker abandoned: never a 500, never
pending or running forever. A real worker on a private Redis that the test stops."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from humanitarian.models import ImportJob, ImportStatus
from humanitarian.services import displacement
from tests.humanitarian.conftest import make_crisis
from tests.support.celery_worker import Worker, broker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HEADER = (
    "country_code,country_name,admin1_name,admin1_code,reported_on,round,idps,refugees,source\n"
)


def csv_rows(first: int, count: int) -> str:
    return HEADER + "".join(
        f"AAA,State A,Area {i},AA-{i:04d},2025-11-20,1,{i},0,DTM\n"
        for i in range(first, first + count)
    )


def status_of(job: ImportJob) -> str:
    job.refresh_from_db()
    return job.status


def test_upload_with_the_broker_down_is_kept_and_reaped(region, private_redis, monkeypatch):
    monkeypatch.setattr(displacement, "INLINE_ROWS", 50)
    crisis = make_crisis(region)
    with broker(private_redis.url):
        private_redis.kill()
        started = time.monotonic()
        job = displacement.start_import(
            by=region.operator_a, desk=region.desk_a, crisis=crisis, content=csv_rows(0, 120)
        )
        took = time.monotonic() - started
        job.refresh_from_db()
        assert job.status == ImportStatus.PENDING and job.enqueued_at is None
        assert took < 2.0, f"the upload waited {took:.2f} s on a dead broker"
        assert displacement.reap_import_jobs()["sent"] == 0  # still down: kept

        private_redis.start()
        worker = Worker(private_redis.url, beat=False, concurrency=1).start()
        try:
            assert displacement.reap_import_jobs()["sent"] == 1
            wait_for(lambda: status_of(job) == ImportStatus.SUCCEEDED, timeout=60,
                     what="the reaped import to run")  # fmt: skip
            assert job.created_count == 120 and job.attempts == 1
        finally:
            worker.stop()


def test_a_killed_run_is_retried_once_then_failed_with_a_reason(region, private_redis):
    crisis = make_crisis(region)
    long_ago = timezone.now() - timezone.timedelta(
        seconds=displacement.IMPORT_TIME_LIMIT_SECONDS + 120
    )

    def stuck(first: int, attempts: int) -> ImportJob:
        content = csv_rows(first, displacement.INLINE_ROWS + 1)
        return ImportJob.objects.create(
            crisis=crisis, desk=region.desk_a, created_by=region.operator_a, content=content,
            total_rows=displacement.INLINE_ROWS + 1, status=ImportStatus.RUNNING,
            started_at=long_ago, attempts=attempts, enqueued_at=long_ago,
        )  # fmt: skip

    once, twice = stuck(0, attempts=1), stuck(1000, attempts=2)
    with broker(private_redis.url):
        worker = Worker(private_redis.url, beat=False, concurrency=1).start()
        try:
            result = displacement.reap_import_jobs()
            assert (result["retried"], result["failed"], result["sent"]) == (1, 1, 1)
            twice.refresh_from_db()
            assert twice.status == ImportStatus.FAILED
            assert "did not finish" in twice.errors[0]["message"]
            wait_for(lambda: status_of(once) == ImportStatus.SUCCEEDED, timeout=60,
                     what="the retried import to run")  # fmt: skip
            assert once.attempts == 2
            # Nothing left to reap; a second run changes nothing.
            assert displacement.reap_import_jobs() == {
                "sent": 0, "retried": 0, "failed": 0, "waiting": 0}  # fmt: skip
        finally:
            worker.stop()
