"""Celery tasks: thin, take ids, safe to run twice (each service is idempotent)."""

from __future__ import annotations

from celery import shared_task

from humanitarian.services import displacement, reminders, sitreps


@shared_task(
    name=displacement.IMPORT_TASK,
    acks_late=True,
    max_retries=0,
    time_limit=displacement.IMPORT_TIME_LIMIT_SECONDS,
    soft_time_limit=displacement.IMPORT_TIME_LIMIT_SECONDS - 60,
)
def run_displacement_import(job_id: int) -> None:
    """Validate and write one import job (only a pending job is taken)."""
    displacement.run_import(job_id=job_id)


@shared_task(acks_late=True, max_retries=0, time_limit=120, soft_time_limit=100)
def send_reminders() -> dict:
    """Periodic sweep: remind pledges past ETA and needs past needed-by, once each."""
    return reminders.send_due_reminders()


@shared_task(acks_late=True, max_retries=0, time_limit=120, soft_time_limit=100)
def post_situation_report(crisis_id: int) -> None:
    sitreps.post_situation_report(crisis_id=crisis_id)


@shared_task(acks_late=True, max_retries=0, time_limit=60, soft_time_limit=50)
def post_daily_situation_reports() -> int:
    """Daily: one situation report per active crisis (fanned out, one task each)."""
    ids = sitreps.active_crisis_ids()
    for crisis_id in ids:
        post_situation_report.delay(crisis_id)
    return len(ids)


@shared_task(acks_late=True, max_retries=0, time_limit=60, soft_time_limit=50)
def reap_import_jobs() -> dict:
    """Periodic: send import jobs whose task was never sent or lost; retry (once) or fail
    jobs killed mid-run. Safe to run twice."""
    return displacement.reap_import_jobs()
