"""Celery tasks of the deadline engine: thin, take ids, safe to run twice.

All of them are routed to the ``escalation`` queue (settings). None retries through
Celery: a deadline that was not fired stays pending in the database and the sweep,
run by beat every few seconds, fires it. ``acks_late`` plus ``reject_on_worker_lost``
make a task killed mid-run come back; the row lock and token make that harmless.
"""

from celery import shared_task

from deadlines import services as deadlines

#: Every engine task: acknowledged after it ran, requeued if its process dies, never
#: retried by Celery (the sweep is the retry), bounded in time.
TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": 0,
    "soft_time_limit": 50,
    "time_limit": 60,
    "ignore_result": True,
}


@shared_task(name=deadlines.FIRE_TASK, **TASK_OPTIONS)
def fire_deadline_task(deadline_id: int, token: str) -> bool:
    """Fire deadline ``deadline_id`` if it is still pending with ``token`` (else no-op)."""
    return deadlines.fire_deadline(deadline_id, token)


@shared_task(name=deadlines.FIRE_DUE_TASK, **TASK_OPTIONS)
def fire_due_deadlines_task() -> int:
    """Fire every pending deadline that is due now (one task per bulk-scheduled slot)."""
    return deadlines.fire_due_deadlines(budget_seconds=40)


@shared_task(name=deadlines.SWEEP_TASK, **TASK_OPTIONS)
def sweep_deadlines_task() -> dict:
    """The safety sweep: fire lost deadlines, enqueue soon-due ones, record a heartbeat."""
    return deadlines.sweep()
