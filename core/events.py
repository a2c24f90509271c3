"""Events leaving the database for the channel layer, always after commit.

Use :func:`publish_on_commit` from services: if the transaction rolls back, nobody is
told. Under test (``EVENTS_CHECK_JSON``) each event is round-tripped through JSON where it
is built, so an unserialisable event fails at the service, not later in a consumer.

The channel layer is transport, not storage: a client that misses an event catches up
from the database (hotline replay by sequence number, timeline by cursor).
"""

from __future__ import annotations

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from core.redis import Breaker, bounded

logger = logging.getLogger(__name__)


def desk_group(desk_id: int) -> str:
    """The channel-layer group every connection of a desk's people joins."""
    return f"desk.{desk_id}"


def user_group(user_id: int) -> str:
    """The channel-layer group every connection of one person joins (escalation to
    supervisors; access changes that must reach that person's open connections)."""
    return f"user.{user_id}"


#: Opened by a failed group send: later sends are skipped for a few seconds instead of
#: each paying a timeout (the database has the truth; clients catch up from it).
_breaker = Breaker(seconds=5.0)


async def _group_send(layer, group: str, event: dict) -> None:
    await bounded(layer.group_send(group, {"type": "push.event", "event": event}))


def publish(group: str, event: dict) -> None:
    """Send now, within ``REDIS_COMMAND_TIMEOUT_SECONDS``. Failures are logged, never
    raised: the database already holds the truth, and a connection that missed the
    event re-reads it (``resync`` frame, reconnect)."""
    layer = get_channel_layer()
    if layer is None or _breaker.is_open:
        return
    try:
        async_to_sync(_group_send)(layer, group, event)
        _breaker.succeeded()
    except Exception:  # transport down or slow: readers catch up from the database
        _breaker.failed()
        logger.warning("could not publish %s to %s", event.get("type"), group, exc_info=True)


def publish_on_commit(groups: list[str] | str, event: dict) -> None:
    """Queue ``event`` for ``groups`` once the surrounding transaction commits."""
    if isinstance(groups, str):
        groups = [groups]
    if getattr(settings, "EVENTS_CHECK_JSON", False):
        event = json.loads(json.dumps(event))
    else:
        json.dumps(event)  # cheap: fail here rather than in a consumer

    def send():
        for group in groups:
            publish(group, event)

    transaction.on_commit(send, robust=True)
