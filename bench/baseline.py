"""The baseline: plain Celery ETA tasks with no database row (what naive timers do).

Each run records ``<index> <due epoch> <ran epoch>`` in a Redis list on the broker.
"""

import os
import time

import redis
from celery import shared_task

RESULTS_KEY = "bench:baseline:results"


_client: redis.Redis | None = None


@shared_task(name="bench.baseline.record", acks_late=True, ignore_result=True)
def record(index: int, due_ts: float) -> None:
    global _client
    ran = time.time()
    if _client is None:
        _client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    _client.rpush(RESULTS_KEY, f"{index} {due_ts} {ran}")
