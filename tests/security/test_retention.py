"""Retention: registered policies purge what is older than their setting, bounded per
run, logged, one failure not stopping the others; beat runs them daily."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from core import retention
from core.tasks import run_retention as run_retention_task
from hotline.models import PresenceSession
from humanitarian.models import ImportJob, ImportStatus
from tests.crisis.factories import make_crisis

pytestmark = pytest.mark.django_db


def days_ago(n: float):
    return timezone.now() - timedelta(days=n)


def presence(region, n: int, *, seen_days_ago: float) -> list[PresenceSession]:
    return [
        PresenceSession.objects.create(
            desk=region.desk_a,
            user=region.operator_a,
            connection=f"conn-{seen_days_ago}-{i}",
            last_seen_at=days_ago(seen_days_ago),
        )
        for i in range(n)
    ]


def import_job(region, crisis, *, finished_days_ago: float | None) -> ImportJob:
    return ImportJob.objects.create(
        crisis=crisis,
        desk=region.desk_a,
        filename="idps.csv",
        content="admin1,idps\nNorth,120\n",
        status=ImportStatus.SUCCEEDED if finished_days_ago is not None else ImportStatus.RUNNING,
        total_rows=1,
        created_count=1,
        finished_at=days_ago(finished_days_ago) if finished_days_ago is not None else None,
    )


def test_the_apps_register_their_policies():
    names = [p.name for p in retention.policies()]
    assert "hotline.presence_sessions" in names and "humanitarian.import_files" in names


def test_stale_presence_rows_are_deleted_and_recent_ones_kept(region, settings):
    settings.RETENTION_PRESENCE_DAYS = 30
    presence(region, 2, seen_days_ago=45)
    recent = presence(region, 1, seen_days_ago=2)
    runs = {r.name: r for r in retention.run_retention()}
    assert runs["hotline.presence_sessions"].purged == 2
    assert list(PresenceSession.objects.values_list("pk", flat=True)) == [recent[0].pk]


def test_import_files_are_cleared_but_the_job_record_stays(region, settings):
    settings.RETENTION_IMPORT_FILE_DAYS = 90
    crisis = make_crisis(region)
    old = import_job(region, crisis, finished_days_ago=120)
    fresh = import_job(region, crisis, finished_days_ago=10)
    running = import_job(region, crisis, finished_days_ago=None)
    runs = {r.name: r for r in retention.run_retention()}
    assert runs["humanitarian.import_files"].purged == 1
    old.refresh_from_db()
    assert old.content == "" and old.created_count == 1 and old.filename == "idps.csv"
    assert ImportJob.objects.get(pk=fresh.pk).content.startswith("admin1")
    assert ImportJob.objects.get(pk=running.pk).content.startswith("admin1")
    # Already cleared rows are not counted again.
    again = {r.name: r for r in retention.run_retention()}
    assert again["humanitarian.import_files"].purged == 0


def test_each_run_is_bounded_and_the_next_run_goes_on(region, settings, caplog):
    settings.RETENTION_PRESENCE_DAYS = 30
    settings.RETENTION_BATCH_LIMIT = 2
    presence(region, 3, seen_days_ago=60)
    with caplog.at_level(logging.INFO, logger="core.retention"):
        first = {r.name: r for r in retention.run_retention()}
    assert (
        first["hotline.presence_sessions"].purged,
        first["hotline.presence_sessions"].more_left,
    ) == (2, True)
    assert "batch limit reached, the next run goes on" in caplog.text
    second = {r.name: r for r in retention.run_retention()}
    assert second["hotline.presence_sessions"].purged == 1
    assert PresenceSession.objects.count() == 0


def test_zero_days_keeps_forever(region, settings, caplog):
    settings.RETENTION_PRESENCE_DAYS = 0
    presence(region, 1, seen_days_ago=4000)
    with caplog.at_level(logging.INFO, logger="core.retention"):
        runs = retention.run_retention()
    assert "hotline.presence_sessions" not in {r.name for r in runs}
    assert "retention hotline.presence_sessions: kept forever" in caplog.text
    assert PresenceSession.objects.count() == 1


def test_a_failing_policy_is_logged_and_the_others_run(region, settings, monkeypatch, caplog):
    def broken(*, older_than, limit):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(
        retention._policies,
        "aaa.broken",
        retention.RetentionPolicy("aaa.broken", "RETENTION_PRESENCE_DAYS", broken),
    )
    settings.RETENTION_PRESENCE_DAYS = 30
    presence(region, 1, seen_days_ago=60)
    with caplog.at_level(logging.INFO, logger="core.retention"):
        runs = {r.name: r for r in retention.run_retention()}
    assert "retention aaa.broken failed" in caplog.text
    assert "aaa.broken" not in runs and runs["hotline.presence_sessions"].purged == 1


def test_a_bad_setting_is_reported_not_applied(region, settings, caplog):
    settings.RETENTION_PRESENCE_DAYS = -5
    presence(region, 1, seen_days_ago=60)
    with caplog.at_level(logging.ERROR, logger="core.retention"):
        retention.run_retention()
    assert "RETENTION_PRESENCE_DAYS must be a whole number of days" in caplog.text
    assert PresenceSession.objects.count() == 1


def test_beat_runs_retention_daily_through_the_task(region, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["retention"]
    assert entry["task"] == "core.tasks.run_retention"
    assert entry["schedule"].hour == {2}
    settings.RETENTION_PRESENCE_DAYS = 30
    presence(region, 2, seen_days_ago=31)
    assert run_retention_task.apply().get()["hotline.presence_sessions"] == 2
