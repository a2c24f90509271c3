"""Celery tasks: thin, take ids, safe to run twice (a feed pass holds a lease)."""

from __future__ import annotations

from celery import shared_task

from feeds import services


@shared_task(acks_late=True, max_retries=0, time_limit=60, soft_time_limit=50)
def poll_cap_feeds() -> int:
    """Beat: bring the feeds in step with CAP_FEEDS, then one task per feed that is due."""
    services.sync_feeds_from_settings()
    ids = services.due_feed_ids()
    for feed_id in ids:
        poll_cap_feed.delay(feed_id)
    return len(ids)


@shared_task(acks_late=True, max_retries=0, time_limit=300, soft_time_limit=270)
def poll_cap_feed(feed_id: int) -> None:
    """One pass over one feed (its outcome is written on the feed's row)."""
    services.poll_feed(feed_id=feed_id)
