"""Redis stopped under a real uvicorn process: actions still commit and answer in their
normal time, open sockets stay open, and live clients catch up once Redis is back.

Figures (printed with ``-s``): p99 of a hotline send over REST and of crisis actions
(report, activate: a channel-layer publish and a broker enqueue each) with Redis stopped,
and how long after Redis returned a live client had every message sent meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import urllib.error
import urllib.request
import uuid

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings

from core import redis as core_redis
from crisis.models import Crisis
from deadlines.models import Deadline, DeadlineState
from hotline.models import Message
from tests.crisis.factories import make_protocol
from tests.hotline.conftest import send, token_key
from tests.support.asgi import AsgiServer, database_url
from tests.support.redis import PrivateRedis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REST_SENDS = 60
CRISES = 15
OUTAGE_MESSAGES = 12
WS_SENDS = 30
CATCH_UP_SECONDS = 5.0


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


@pytest.fixture
def redis_server():
    server = PrivateRedis().start()
    try:
        yield server
    finally:
        server.stop()
        core_redis.reset()


@pytest.fixture
def server(redis_server):
    web = AsgiServer(
        database_url=database_url(settings.DATABASES["default"]),
        redis_url=redis_server.url,
        env={
            "CELERY_BROKER_URL": redis_server.url,
            # Short group expiry, re-joined every second: a console open "longer than
            # the expiry" must keep receiving (test_groups_are_rejoined_before_expiry).
            "CHANNEL_GROUP_EXPIRY_SECONDS": "4",
            "CHANNEL_GROUP_REJOIN_SECONDS": "1",
        },
    )
    web.start().wait_ready()
    try:
        yield web
    finally:
        web.stop()


def post(server: AsgiServer, path: str, token: str, body: dict) -> tuple[int, dict, float]:
    """POST JSON; (status, body, seconds taken)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310  # loopback
            status, text = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()
    return status, json.loads(text or b"{}"), time.monotonic() - started


async def connect(server: AsgiServer, token: str):
    ws = await websockets.connect(
        server.ws_url, additional_headers={"Authorization": f"Token {token}"}, open_timeout=10
    )
    hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert hello["type"] == "hello"
    return ws


async def frames_until(ws, predicate, *, timeout: float) -> list[dict]:
    """Frames read until one satisfies ``predicate`` (included), within ``timeout``."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; frames so far: {seen}"
        frame = json.loads(await asyncio.wait_for(ws.recv(), left))
        seen.append(frame)
        if predicate(frame):
            return seen


def test_actions_answer_fast_with_redis_stopped(region, line_ab, server, redis_server):
    make_protocol()  # "maritime": activating a crisis starts its escalation deadline
    token_a = token_key(region.operator_a)
    token_sup = token_key(region.supervisor_a)
    assert post(server, f"/api/v1/channels/{line_ab.pk}/messages/", token_a, {
        "body": "warm-up", "client_msg_id": str(uuid.uuid4())})[0] == 201  # fmt: skip

    redis_server.kill()
    sends = []
    for n in range(REST_SENDS):
        status, body, took = post(
            server,
            f"/api/v1/channels/{line_ab.pk}/messages/",
            token_a,
            {"body": f"outage {n}", "client_msg_id": str(uuid.uuid4())},
        )
        assert status == 201, body
        sends.append(took)
    actions = []
    for n in range(CRISES):
        status, body, took = post(server, "/api/v1/crises/", token_a, {
            "category": "maritime", "title": f"Outage crisis {n}", "severity": 3,
            "affected_states": ["AAA", "BBB"], "admin_area": "AA-91 Coast"})  # fmt: skip
        assert status == 201, body
        actions.append(took)
        status, body, took = post(
            server, f"/api/v1/crises/{body['id']}/transition/", token_sup, {"to": "active"}
        )
        assert status == 200, body
        actions.append(took)

    print(
        f"\nRedis stopped: hotline send over REST p99 {p99(sends) * 1000:.0f} ms "
        f"(median {sorted(sends)[len(sends) // 2] * 1000:.0f} ms) "
        f"(max {max(sends) * 1000:.0f} ms, n={len(sends)}); crisis report/activate p99 "
        f"{p99(actions) * 1000:.0f} ms (max {max(actions) * 1000:.0f} ms, n={len(actions)})"
    )
    assert p99(sends) < 1.0 and p99(actions) < 1.0
    # Committed, not half-written: every message stored, every escalation armed.
    assert Message.objects.filter(channel=line_ab).count() == REST_SENDS + 1
    active = Crisis.objects.filter(title__startswith="Outage crisis", status="active")
    assert active.count() == CRISES
    assert (
        Deadline.objects.filter(state=DeadlineState.PENDING, kind="crisis.escalation").count()
        == CRISES
    )


async def test_live_client_catches_up_within_seconds_of_redis_returning(
    region, line_ab, server, redis_server
):
    token_a, token_b = await database_sync_to_async(lambda: (
        token_key(region.operator_a), token_key(region.operator_b)))()  # fmt: skip
    sender = await connect(server, token_a)
    receiver = await connect(server, token_b)
    await receiver.send(json.dumps({"type": "subscribe", "channel": line_ab.pk, "since_seq": 0}))
    await frames_until(receiver, lambda f: f["type"] == "subscribed", timeout=10)

    redis_server.kill()
    # The socket survives (its channel layer is gone) and sends over it commit in normal
    # time; people on the same process still see them at once.
    took = []
    for n in range(1, WS_SENDS + 1):
        started = time.monotonic()
        await sender.send(json.dumps({"type": "send", "channel": line_ab.pk,
                                      "body": f"ws outage {n}",
                                      "client_msg_id": str(uuid.uuid4())}))  # fmt: skip
        sent = (await frames_until(sender, lambda f: f["type"] == "sent", timeout=5))[-1]
        took.append(time.monotonic() - started)
        assert sent["seq"] == n
    print(f"\nRedis stopped: hotline send over the websocket p99 {p99(took) * 1000:.0f} ms "
          f"(max {max(took) * 1000:.0f} ms, n={len(took)})")  # fmt: skip
    assert p99(took) < 1.0
    local = await frames_until(
        receiver, lambda f: f["type"] == "message" and f["seq"] == WS_SENDS, timeout=5
    )
    assert [f["seq"] for f in local if f["type"] == "message"] == list(range(1, WS_SENDS + 1))

    # Sent by another process (this one) while Redis is down: nobody hears them live.
    def send_outside():
        for n in range(OUTAGE_MESSAGES):
            send(region.operator_a, line_ab, f"while down {n}")

    await database_sync_to_async(send_outside)()
    await asyncio.sleep(1.0)  # the outage lasts a little while
    redis_server.start()
    back = time.monotonic()
    want = WS_SENDS + OUTAGE_MESSAGES
    frames = await frames_until(
        receiver,
        lambda f: f["type"] == "message" and f["seq"] == want,
        timeout=CATCH_UP_SECONDS,
    )
    caught_up = time.monotonic() - back
    print(f"\nlive client caught up {OUTAGE_MESSAGES} messages {caught_up:.2f} s after Redis")
    messages = [f["seq"] for f in frames if f["type"] == "message"]
    assert messages == list(range(WS_SENDS + 1, want + 1))  # none lost, none twice

    # Live again: one more message arrives once, through Redis.
    await sender.send(json.dumps({"type": "send", "channel": line_ab.pk, "body": "after",
                                  "client_msg_id": str(uuid.uuid4())}))  # fmt: skip
    more = await frames_until(receiver, lambda f: f["type"] == "message", timeout=5)
    assert [f["seq"] for f in more if f["type"] == "message"] == [want + 1]
    await sender.close()
    await receiver.close()


async def test_groups_are_rejoined_before_expiry_and_after_an_outage(
    region, server, redis_server, settings
):
    """The server's group expiry is 4 s, re-joined every second: after twice the expiry
    a desk event still arrives. After Redis restarts empty, the connection re-joins and
    is told to re-read (``resync``)."""
    from core.events import desk_group, publish

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_server.url], "group_expiry": 4},
        }
    }
    token = await database_sync_to_async(token_key)(region.operator_a)
    ws = await connect(server, token)
    await asyncio.sleep(8.5)  # twice the expiry: nothing to await but time itself
    await asyncio.to_thread(publish, desk_group(region.desk_a.pk), {"type": "crisis.test", "n": 1})
    got = await frames_until(ws, lambda f: f["type"] == "crisis.test", timeout=5)
    assert got[-1]["n"] == 1

    redis_server.restart()  # memberships gone with it
    await frames_until(ws, lambda f: f["type"] == "resync", timeout=10)
    settings.CHANNEL_LAYERS = {**settings.CHANNEL_LAYERS}  # this process: fresh connections
    await asyncio.to_thread(publish, desk_group(region.desk_a.pk), {"type": "crisis.test", "n": 2})
    got = await frames_until(ws, lambda f: f["type"] == "crisis.test", timeout=5)
    assert got[-1]["n"] == 2
    await ws.close()
