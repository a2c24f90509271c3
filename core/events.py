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

logger = logging.getLogger(__name__)


def desk_group(desk_id: int) -> str:
    """The channel-layer group every connection of a desk's people joins."""
    return f"desk.{desk_id}"


def user_group(user_id: int) -> str:
    """The channel-layer group every connection of one person joins (escalation to
    supervisors; access changes that must reach that person's open connections)."""
    return f"user.{user_id}"


def publish(group: str, event: dict) -> None:
    """Send now. Failures are logged, not raised: the database already holds the truth."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "push.event", "event": event})
    except Exception:  # transport down: readers catch up from the database
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

    transaction.on_commit(send)
