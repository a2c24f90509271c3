"""Celery task of paging: a chunk of claimed attempts sent by another worker process.

Routed to the ``escalation`` queue (settings). Safe to run twice and never retried by
Celery: each attempt is sent only while it is still ``sending`` with the claimed try
(:func:`paging.services.delivery.deliver_many`), and whatever a lost task did not send,
its attempts' watchdogs send.
"""

from celery import shared_task

from paging.services import delivery


@shared_task(
    name=delivery.DELIVER_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=0,
    soft_time_limit=240,
    time_limit=300,
    ignore_result=True,
)
def deliver_attempts_task(tries: list[list[int]]) -> None:
    """Send each ``[attempt id, try]`` and record it (:func:`deliver_many`)."""
    delivery.deliver_many([(attempt_id, try_no) for attempt_id, try_no in tries])
