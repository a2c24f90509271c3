"""A message committed but never published (its process died between the commit and the
publish) still reaches a live connection: nothing after it shows a gap, so the hub's
check of the line's head in the database makes the connection re-read. A real uvicorn
process and a real websocket client; the lost publish is produced by committing in this
process with its publishes collected and thrown away."""

import asyncio
import contextlib
import json
import time

import pytest
import websockets
from channels.db import database_sync_to_async as in_thread
from django.conf import settings

from hotline.fanout import deferred_publishes
from tests.hotline.conftest import send, token_key
from tests.support.asgi import AsgiServer, database_url
from tests.support.redis import PrivateRedis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HEAD_CHECK_SECONDS = 1.0


@pytest.fixture
def server():
    redis_server = PrivateRedis().start()
    web = AsgiServer(
        database_url=database_url(settings.DATABASES["default"]),
        redis_url=redis_server.url,
        env={"HOTLINE_HUB_HEAD_CHECK_SECONDS": str(HEAD_CHECK_SECONDS)},
    )
    try:
        web.start()
        web.wait_ready()
        yield web
    finally:
        web.stop()
        redis_server.stop()


def send_and_lose_the_publish(user, line, body: str) -> int:
    with deferred_publishes() as pending:
        message, _ = send(user, line, body)
    assert pending, "the send would have published"
    return message.seq  # ``pending`` is dropped: nobody hears of it through Redis


async def test_a_message_whose_publish_was_lost_arrives_live(region, line_ab, server):
    token = await in_thread(token_key)(region.operator_b)
    ws = await websockets.connect(
        server.ws_url, additional_headers={"Authorization": f"Token {token}"}, open_timeout=10
    )
    try:
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "hello"
        await ws.send(json.dumps({"type": "subscribe", "channel": line_ab.pk, "since_seq": 0}))
        while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "subscribed":
            pass

        lost = await in_thread(send_and_lose_the_publish)(region.operator_a, line_ab, "lost")
        committed = time.monotonic()
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        waited = time.monotonic() - committed
        assert (frame["type"], frame["seq"], frame["body"]) == ("message", lost, "lost")
        # Within two checks (a margin for a loaded machine), not on the next message.
        assert waited < 6 * HEAD_CHECK_SECONDS, waited

        # The next message comes live, after it, once: nothing re-sent.
        await in_thread(send)(region.operator_a, line_ab, "next")
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert (frame["type"], frame["seq"], frame["body"]) == ("message", lost + 1, "next")
        # Two more checks pass: the line is not re-sent (each seq arrives once).
        later = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.5 * HEAD_CHECK_SECONDS):
                while True:
                    later.append(json.loads(await ws.recv()))
        assert [f for f in later if f["type"] == "message"] == []
    finally:
        await ws.close()
