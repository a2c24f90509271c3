"""End to end: two real uvicorn processes share PostgreSQL and a Redis; desks of two
states talk through different processes; one process is killed mid-stream and its
client resumes on the other with since_seq: nothing lost, nothing duplicated."""

import asyncio
import json
import uuid

import pytest
import websockets
from django.conf import settings

from tests.hotline.conftest import token_key
from tests.support.asgi import AsgiServer, database_url
from tests.support.redis import PrivateRedis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TOTAL = 60


@pytest.fixture
def servers():
    redis_server = PrivateRedis().start()
    url = database_url(settings.DATABASES["default"])
    pair = [AsgiServer(database_url=url, redis_url=redis_server.url) for _ in range(2)]
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


async def connect(server: AsgiServer, token: str):
    ws = await websockets.connect(
        server.ws_url, additional_headers={"Authorization": f"Token {token}"}, open_timeout=10
    )
    hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert hello["type"] == "hello"
    return ws


async def subscribe(ws, channel_id: int, since_seq: int) -> list[dict]:
    """Subscribe; return replayed messages (live ones that follow are read later)."""
    await ws.send(json.dumps({"type": "subscribe", "channel": channel_id, "since_seq": since_seq}))
    replayed = []
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame["type"] == "message":
            replayed.append(frame)
        elif frame["type"] == "subscribed":
            return replayed
        assert frame["type"] != "error", frame


@pytest.fixture
def tokens(region):
    return token_key(region.operator_a), token_key(region.operator_b)


async def test_two_processes_kill_one_resume_on_the_other(region, line_ab, tokens, servers):
    first, second = servers
    token_a, token_b = tokens

    sender = await connect(first, token_a)  # desk of state A on process 1
    receiver = await connect(second, token_b)  # desk of state B on process 2
    assert await subscribe(receiver, line_ab.pk, 0) == []

    sent_seqs: list[int] = []

    async def send_all():
        for n in range(1, TOTAL + 1):
            frame = {"type": "send", "channel": line_ab.pk, "body": f"m{n}"}
            await sender.send(json.dumps({**frame, "client_msg_id": str(uuid.uuid4())}))
            while True:
                frame = json.loads(await asyncio.wait_for(sender.recv(), 10))
                if frame["type"] == "sent":
                    sent_seqs.append(frame["seq"])
                    break
                assert frame["type"] != "error", frame
            await asyncio.sleep(0.01)

    sending = asyncio.create_task(send_all())
    received: list[dict] = []
    try:
        # Live through process 2 until a third of the stream is in, then kill process 2.
        while len(received) < TOTAL // 3:
            frame = json.loads(await asyncio.wait_for(receiver.recv(), 10))
            if frame["type"] == "message":
                received.append(frame)
        second.kill()
        with pytest.raises(websockets.ConnectionClosed):
            while True:  # whatever was already on the wire still counts
                frame = json.loads(await asyncio.wait_for(receiver.recv(), 10))
                if frame["type"] == "message":
                    received.append(frame)

        # Resume on process 1 with the last seq we have.
        resumed = await connect(first, token_b)
        received += await subscribe(resumed, line_ab.pk, received[-1]["seq"])
        while received[-1]["seq"] < TOTAL:
            frame = json.loads(await asyncio.wait_for(resumed.recv(), 10))
            if frame["type"] == "message":
                received.append(frame)
        await asyncio.wait_for(sending, 30)
        await resumed.close()
    finally:
        sending.cancel()
        await sender.close()

    assert sent_seqs == list(range(1, TOTAL + 1))
    assert [m["seq"] for m in received] == list(range(1, TOTAL + 1))  # none lost, no duplicate
    assert [m["body"] for m in received] == [f"m{n}" for n in range(1, TOTAL + 1)]
    assert {m["sender"] for m in received} == {"op-a"}
