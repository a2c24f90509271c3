"""The websocket endpoint's basics on the real Redis channel layer."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from core.events import desk_group, publish
from tests.hotline.conftest import token_for

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user=None, *, origin: bytes | None = None):
    headers = []
    if user is not None:
        headers.append((b"authorization", f"Token {await token_for(user)}".encode()))
    if origin:
        headers.append((b"origin", origin))
    communicator = WebsocketCommunicator(application, "/ws/v1/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def test_token_connects_and_says_hello(region):
    ws, connected, _ = await connect(region.operator_a)
    assert connected
    hello = await ws.receive_json_from(timeout=5)
    assert hello["type"] == "hello" and hello["desks"] == [region.desk_a.pk]
    await ws.send_json_to({"type": "ping", "ref": "p1"})
    assert await ws.receive_json_from(timeout=5) == {"type": "pong", "ref": "p1"}
    await ws.disconnect()


async def test_anonymous_is_refused_with_4401(region):
    ws, connected, _ = await connect(None)
    assert connected  # accepted, then closed with a code and reason the client can read
    closed = await ws.receive_output(timeout=5)
    assert closed["type"] == "websocket.close" and closed["code"] == 4401


async def test_foreign_origin_is_refused(region):
    ws, connected, _ = await connect(region.operator_a, origin=b"https://evil.example.com")
    assert connected
    closed = await ws.receive_output(timeout=5)
    assert closed["type"] == "websocket.close" and closed["code"] == 4403


async def test_bad_frames_get_error_frames_and_the_connection_lives(region):
    ws, _connected, _ = await connect(region.operator_a)
    await ws.receive_json_from(timeout=5)
    await ws.send_to(text_data="{not json")
    assert (await ws.receive_json_from(timeout=5))["code"] == "bad_json"
    await ws.send_to(text_data=json.dumps([1, 2]))
    assert (await ws.receive_json_from(timeout=5))["code"] == "bad_frame"
    await ws.send_json_to({"type": "launch_missiles", "ref": "x"})
    error = await ws.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "unknown_type" and error["ref"] == "x"
    await ws.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * 70_000}))
    assert (await ws.receive_json_from(timeout=5))["code"] == "frame_too_large"
    await ws.send_json_to({"type": "ping"})
    assert (await ws.receive_json_from(timeout=5))["type"] == "pong"
    await ws.disconnect()


async def test_desk_group_events_reach_only_that_desk(region):
    ws_a, *_ = await connect(region.operator_a)
    ws_b, *_ = await connect(region.operator_b)
    await ws_a.receive_json_from(timeout=5)
    await ws_b.receive_json_from(timeout=5)
    await database_sync_to_async(publish)(
        desk_group(region.desk_a.pk), {"type": "test.event", "n": 1}
    )
    assert await ws_a.receive_json_from(timeout=5) == {"type": "test.event", "n": 1}
    assert await ws_b.receive_nothing(timeout=0.5)
    await ws_a.disconnect()
    await ws_b.disconnect()
