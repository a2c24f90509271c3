"""Celery tasks of the crisis app (thin: call a service and return)."""

from celery import shared_task

from crisis.services.timeline import create_checkpoint


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def checkpoint_timeline() -> int | None:
    """Sign a timeline checkpoint (daily, from beat). Safe to run twice: a second run
    signs only what moved. Returns the checkpoint's number, or None without a key."""
    checkpoint = create_checkpoint()
    return checkpoint.seq if checkpoint else None
