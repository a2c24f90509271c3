"""Celery tasks of the platform (thin: call the function and return)."""

from celery import shared_task

from core.retention import run_retention as run_retention_policies


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def run_retention() -> dict[str, int]:
    """Run every retention policy once (daily, from beat); safe to run twice."""
    return {run.name: run.purged for run in run_retention_policies()}
