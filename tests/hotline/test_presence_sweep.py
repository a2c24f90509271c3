"""Presence left by a crashed web process: each process beats for its own connections;
the sweep removes rows whose process stopped beating and announces those desks offline.
Two real uvicorn processes; one is SIGKILLed."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest
import websockets
from channels.db import database_sync_to_async

from core import redis as core_redis
from hotline.models import PresenceSession
from hotline.selectors import PRESENCE_TTL_SECONDS
from hotline.services.presence import sweep_stale
from tests.hotline.conftest import token_key
from tests.support.asgi import AsgiServer, database_url
from tests.support.redis import PrivateRedis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

#: The sweep's "now": just past the TTL after the crashed row's last heartbeat (the
#: living connection's row was refreshed later than that).
SWEEP_AFTER = timedelta(seconds=PRESENCE_TTL_SECONDS + 0.01)


@pytest.fixture
def two_servers(settings):
    redis_server = PrivateRedis().start()
    settings.REDIS_URL = redis_server.url  # the sweep (this process) publishes there
    url = database_url(settings.DATABASES["default"])
    env = {"HOTLINE_PRESENCE_HEARTBEAT_SECONDS": "1"}
    pair = [AsgiServer(database_url=url, redis_url=redis_server.url, env=env) for _ in range(2)]
    try:
        for server in pair:
            server.start()
        for server in pair:
            server.wait_ready()
        yield pair
    finally:
        for server in pair:
            server.stop()
        redis_server.stop()
        core_redis.reset()


async def connect(server: AsgiServer, token: str):
    ws = await websockets.connect(
        server.ws_url, additional_headers={"Authorization": f"Token {token}"}, open_timeout=10
    )
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "hello"
    return ws


async def presence_of(ws, desk_id: int, *, online: bool, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        if frame["type"] == "presence" and frame["desk"] == desk_id and frame["online"] is online:
            return frame


async def wait_until(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not await database_sync_to_async(predicate)():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def test_crashed_process_presence_is_swept_and_announced_offline(
    region, line_ab, two_servers
):
    alive, doomed = two_servers
    token_a, token_b = await database_sync_to_async(lambda: (
        token_key(region.operator_a), token_key(region.operator_b)))()  # fmt: skip
    watcher = await connect(alive, token_b)
    await watcher.send(json.dumps({"type": "subscribe", "channel": line_ab.pk}))
    await connect(doomed, token_a)
    await presence_of(watcher, region.desk_a.pk, online=True)

    doomed.kill()  # no disconnect ran: desk A's row stays behind
    rows = PresenceSession.objects.filter
    crashed_seen = await database_sync_to_async(
        lambda: rows(desk=region.desk_a).get().last_seen_at
    )()
    watcher_seen = await database_sync_to_async(
        lambda: rows(desk=region.desk_b).get().last_seen_at
    )()
    # The living process beats for its connection; the dead one does not.
    await wait_until(
        lambda: rows(desk=region.desk_b).get().last_seen_at > watcher_seen,
        timeout=5,
        what="the living process's presence heartbeat",
    )
    assert (
        await database_sync_to_async(lambda: rows(desk=region.desk_a).get().last_seen_at)()
        == crashed_seen
    )

    # Beat's sweep, as it runs once the TTL has passed since the crashed row's last beat.
    later = crashed_seen + SWEEP_AFTER
    assert await database_sync_to_async(sweep_stale)(now=later) == 1
    frame = await presence_of(watcher, region.desk_a.pk, online=False)
    assert frame["channel"] == line_ab.pk
    assert not await database_sync_to_async(rows(desk=region.desk_a).exists)()
    assert await database_sync_to_async(rows(desk=region.desk_b).exists)()
    assert await database_sync_to_async(sweep_stale)(now=later) == 0  # twice: nothing more
    await watcher.close()
