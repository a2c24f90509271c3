"""Fixtures and helpers of the hotline tests: lines between the region's desks, sending
through the service, tokens, websocket clients. One definition each; test files import
the helpers from here."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from knox.models import AuthToken

from config.asgi import application
from hotline.fanout import get_hub
from hotline.models import HotlineChannel, Message
from hotline.services.channels import open_crisis_room, set_up_bilateral_channel
from hotline.services.messages import send_message


@pytest.fixture
def line_ab(region):
    """An active bilateral line between the desks of states A and B."""
    return set_up_bilateral_channel(
        by=region.coordinator, desk_id=region.desk_a.pk, peer_desk_id=region.desk_b.pk
    )


@pytest.fixture
def room(region):
    """A crisis room of A, B, C and the regional centre."""
    return open_crisis_room(
        by=region.coordinator,
        name="Typhoon room",
        desk_ids=[region.desk_a.pk, region.desk_b.pk, region.desk_c.pk],
        crisis_ref="crisis:1",
    )


@pytest.fixture(autouse=True)
async def _stop_hub():
    yield
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    from hotline.fanout import _hubs

    hub = _hubs.get(asyncio.get_running_loop())
    if hub is not None:
        await hub.stop()


def new_id() -> str:
    return str(uuid.uuid4())


def send(
    user, line: HotlineChannel | int, body: str = "hello", *, client_msg_id=None, **extra
) -> tuple[Message, bool]:
    """``send_message`` as ``user`` on ``line``, with a new client message id unless given."""
    return send_message(
        by=user,
        channel_id=line if isinstance(line, int) else line.pk,
        body=body,
        client_msg_id=client_msg_id or uuid.uuid4(),
        **extra,
    )


def token_key(user) -> str:
    """A new API token of ``user`` (its key: the database keeps only a hash)."""
    return AuthToken.objects.create(user=user)[1]


token_for = database_sync_to_async(token_key)


class Client:
    """A websocket client on the ASGI app, with helpers to wait for a frame type."""

    def __init__(self, communicator: WebsocketCommunicator):
        self.ws = communicator
        self.seen: list[dict] = []
        self.pending: list[dict] = []  # received, not yet taken by expect()

    @classmethod
    async def open(cls, user) -> Client:
        headers = [(b"authorization", f"Token {await token_for(user)}".encode())]
        ws = WebsocketCommunicator(application, "/ws/v1/", headers=headers)
        connected, code = await ws.connect(timeout=5)
        assert connected, code
        client = cls(ws)
        hello = await client.expect("hello")
        client.desks = hello["desks"]
        return client

    async def send(self, **frame) -> None:
        await self.ws.send_json_to(frame)

    async def recv(self, timeout: float = 5) -> dict:
        frame = await self.ws.receive_json_from(timeout=timeout)
        self.seen.append(frame)
        return frame

    async def expect(self, type_: str, timeout: float = 5, **match) -> dict:
        """The next frame of this type (and these field values); others stay pending."""

        def matches(frame):
            return frame["type"] == type_ and all(frame.get(k) == v for k, v in match.items())

        for frame in self.pending:
            if matches(frame):
                self.pending.remove(frame)
                return frame
        while True:
            frame = await self.recv(timeout)
            if matches(frame):
                return frame
            if frame["type"] == "error" and type_ != "error":
                raise AssertionError(f"unexpected error frame {frame}")
            self.pending.append(frame)

    async def subscribe(self, channel_id: int, since_seq: int = 0) -> list[dict]:
        """Subscribe; return the replayed messages (up to the ``subscribed`` frame)."""
        await self.send(type="subscribe", channel=channel_id, since_seq=since_seq, ref="s")
        replayed = []
        while True:
            frame = await self.recv()
            if frame["type"] == "message":
                replayed.append(frame)
            elif frame["type"] == "subscribed":
                return replayed
            elif frame["type"] == "error":
                raise AssertionError(frame)

    async def send_message(self, channel_id: int, body: str, **extra) -> dict:
        ref = new_id()
        await self.send(
            type="send",
            channel=channel_id,
            body=body,
            client_msg_id=extra.pop("client_msg_id", new_id()),
            ref=ref,
            **extra,
        )
        return await self.expect("sent", ref=ref)

    async def close(self) -> None:
        await self.ws.disconnect()


@pytest.fixture
async def ws_client():
    opened: list[Client] = []

    async def open_(user) -> Client:
        client = await Client.open(user)
        opened.append(client)
        return client

    yield open_
    for client in opened:
        await client.ws.disconnect()


__all__ = ["Client", "get_hub", "new_id", "send", "token_for", "token_key"]
