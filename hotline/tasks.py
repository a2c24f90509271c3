"""Celery tasks of the hotline app (thin: they call services)."""

from celery import shared_task

from hotline.services import presence
from hotline.services.line_checks import send_line_checks as send_line_checks_service


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def send_line_checks() -> int:
    """Celery beat: a line check on every active channel. Safe to run twice: a channel
    with a pending check gets no second one."""
    return send_line_checks_service()


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def sweep_presence() -> int:
    """Celery beat: presence rows of crashed web processes are removed and their desks
    announced offline. Safe to run twice."""
    return presence.sweep_stale()
