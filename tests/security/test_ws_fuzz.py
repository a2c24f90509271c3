"""A fuzz of malformed websocket frames on the hotline socket: every one is answered with an
``error`` frame carrying a documented code (never ``server_error``), nothing is written,
and the connection stays open (docs/hotline-protocol.md, "Connecting").

The frames are built, deterministically, from the protocol's own frame table
(``hotline.protocol.CLIENT_FRAMES``): each client frame with each field missing or set to a
value of the wrong type or range, plus frames that are not JSON, not objects, binary,
deeply nested, of unknown types, or carry NUL characters and lone surrogates. They go
through Channels' ``WebsocketCommunicator`` to ``config.asgi.application`` on a
token-authenticated connection of an operator on an active line.
"""

from __future__ import annotations

import json
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from hotline.models import Message, Receipt
from hotline.protocol import CLIENT_FRAMES, CLOSE_CODES, SERVER_FRAMES
from hotline.services.channels import set_up_bilateral_channel
from tests.hotline.conftest import _stop_hub as _hub_stopped  # noqa: F401
from tests.hotline.conftest import token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# docs/hotline-protocol.md, "Connecting": the codes an error frame may carry.
DOCUMENTED_CODES = {
    "bad_json", "bad_frame", "unknown_type", "missing_field", "bad_field", "frame_too_large",
    "rate_limited", "channel_not_found", "message_not_found", "not_a_member",
    "permission_denied", "channel_archived", "channel_not_active", "own_message",
    "body_too_long", "empty_body", "bad_correction", "client_msg_id_taken",
}  # fmt: skip

HUGE = 10**40
# Values no field of the kind may take (None only where the field is required).
BAD_VALUES = {
    "int": ["1", "", 0, -1, 1.5, -HUGE, [], {}, [1], {"id": 1}, "\x00", False],
    "seq": ["0", "", -1, 0.5, -HUGE, [], {}, [0], "\x00", True],
    "str": [1, 0, 1.5, [], {}, ["text"], {"text": "x"}, "", "\x00", "a\x00b", "\ud800", True],
    "uuid": ["not-a-uuid", "", 1, [], {}, "\x00", "\ud800", str(uuid.uuid4())[:-1], True],
    "priority": ["FLASH", "", "\x00", 1, [], {}, True],
    "tlp": ["PURPLE", "amber", "TLP:", "", "\x00", 1, [], {}, True],
    "any": [],
}


def _valid_value(kind: str, line_id: int):
    return {
        "int": line_id,
        "seq": 0,
        "str": "hello",
        "uuid": str(uuid.uuid4()),
        "priority": "routine",
        "tlp": "AMBER",
    }[kind]


def out_of_range_frames(line_id: int) -> list[tuple[str, str]]:
    """Integers past 64 bits in every integer field: the protocol sets no upper bound, so
    these may be taken (harmlessly) rather than refused, but never crash or write."""
    frames = []
    for spec in CLIENT_FRAMES.values():
        base = {f.name: _valid_value(f.kind, line_id) for f in spec.fields if f.kind != "any"}
        for f in spec.fields:
            if f.kind in ("int", "seq"):
                for value in (2**63, HUGE):
                    frame = {"type": spec.type, **base, f.name: value, "ref": "edge"}
                    frames.append((f"{spec.type} {f.name}={value}", json.dumps(frame)))
    return frames


def malformed_frames(line_id: int) -> list[tuple[str, str | bytes]]:
    """``(label, raw frame)`` pairs: text frames are sent as text, bytes as binary."""
    frames: list[tuple[str, str | bytes]] = []
    for spec in CLIENT_FRAMES.values():
        base = {"type": spec.type, "ref": f"{spec.type}-base"}
        for f in spec.fields:
            if f.kind != "any":
                base[f.name] = _valid_value(f.kind, line_id)
        for f in spec.fields:
            if f.required:
                frame = {k: v for k, v in base.items() if k != f.name}
                frames.append((f"{spec.type} without {f.name}", json.dumps(frame)))
                frames.append((f"{spec.type} {f.name}=null", json.dumps({**base, f.name: None})))
            for i, value in enumerate(BAD_VALUES[f.kind]):
                frame = {**base, f.name: value, "ref": f"{spec.type}-{f.name}-{i}"}
                frames.append((f"{spec.type} {f.name}={value!r:.40}", json.dumps(frame)))
        numbers = [f.name for f in spec.fields if f.kind in ("int", "seq")]
        if numbers:  # a number too large for a double (JSON text 1e999 parses as infinity)
            raw = json.dumps({**base, numbers[0]: "N"}).replace('"N"', "1e999")
            frames.append((f"{spec.type} {numbers[0]}=1e999", raw))
    deep = 20_000  # nested far past Python's recursion limit, within the 64 KiB frame limit
    frames += [
        ("empty text", ""),
        ("whitespace", "   \n"),
        ("not json", "hello"),
        ("truncated json", '{"type": "ping"'),
        ("single quotes", "{'type': 'ping'}"),
        ("trailing comma", '{"type": "ping",}'),
        ("NaN", "NaN"),
        ("json null", "null"),
        ("json number", "42"),
        ("huge number", "1" * 5000),
        ("json string", '"ping"'),
        ("json array", '["ping"]'),
        ("json true", "true"),
        ("nul outside a string", '{"type": "ping"}\x00'),
        ("nul in a key", '{"ty\\u0000pe": "ping"}'),
        ("lone surrogate type", '{"type": "\\ud800"}'),
        ("no type", '{"ref": 1}'),
        ("type null", '{"type": null}'),
        ("type number", '{"type": 7}'),
        ("type list", '{"type": ["ping"]}'),
        ("type object", '{"type": {"ping": 1}}'),
        ("empty type", '{"type": ""}'),
        ("unknown type", '{"type": "drop_tables"}'),
        ("server frame type", '{"type": "hello"}'),
        ("error frame type", '{"type": "error", "code": "x"}'),
        ("type with nul", '{"type": "ping\\u0000"}'),
        ("type in caps", '{"type": "PING"}'),
        ("duplicate keys", '{"type": "ping", "type": "sendx"}'),
        ("deep arrays", "[" * deep + "]" * deep),
        ("deep objects", '{"a":' * (deep // 2) + "1" + "}" * (deep // 2)),
        ("deep ref", '{"type": "subscribe", "ref": ' + "[" * deep + "]" * deep + "}"),
        ("binary json", b'{"type": "ping"}'),
        ("binary junk", bytes(range(256))),
        ("binary nul", b"\x00" * 64),
        ("binary invalid utf-8", b'{"type": "\xff\xfe"}'),
        ("binary empty", b""),
    ]
    frames += [(f"unknown type {i}", json.dumps({"type": f"x{i}", "ref": i})) for i in range(20)]
    return frames


class Socket:
    """The raw communicator: every frame the server sends back, and how it closed."""

    def __init__(self, ws: WebsocketCommunicator):
        self.ws = ws
        self.close_code: int | None = None

    async def send(self, raw: str | bytes) -> None:
        # send_input, not send_to: send_to refuses empty frames, which the fuzz sends.
        key = "bytes" if isinstance(raw, bytes) else "text"
        await self.ws.send_input({"type": "websocket.receive", key: raw})

    async def until_pong(self, ref: str) -> list[dict]:
        """Frames received up to the ``pong`` answering ``ref`` (sent after each fuzz frame,
        so each fuzz frame's replies are exactly the frames before it)."""
        await self.ws.send_json_to({"type": "ping", "ref": ref})
        frames = []
        while True:
            output = await self.ws.receive_output(timeout=5)
            if output["type"] == "websocket.close":
                self.close_code = output.get("code", 1000)
                return frames
            frame = json.loads(output["text"])
            if frame.get("type") == "pong" and frame.get("ref") == ref:
                return frames
            frames.append(frame)


@database_sync_to_async
def _rows(line) -> tuple[int, int]:
    return (
        Message.objects.filter(channel=line).count(),
        Receipt.objects.filter(message__channel=line).count(),
    )


async def test_malformed_frames_get_documented_errors_and_write_nothing(region, settings):
    # The fuzz is about parsing, not flood control (tests/security/test_sockets_frames.py).
    settings.HOTLINE_WS_BURST = 10_000
    settings.HOTLINE_WS_RATE_PER_SECOND = 10_000
    line = await database_sync_to_async(set_up_bilateral_channel)(
        by=region.coordinator, desk_id=region.desk_a.pk, peer_desk_id=region.desk_b.pk
    )
    rows_before = await _rows(line)
    frames = malformed_frames(line.pk)
    assert len(frames) >= 250

    headers = [(b"authorization", f"Token {await token_for(region.operator_a)}".encode())]
    ws = WebsocketCommunicator(application, "/ws/v1/", headers=headers)
    connected, _ = await ws.connect(timeout=5)
    assert connected
    socket = Socket(ws)
    assert json.loads((await ws.receive_output(timeout=5))["text"])["type"] == "hello"

    wrong: list[str] = []
    server_errors: list[str] = []
    edges = out_of_range_frames(line.pk)
    try:
        for i, (label, raw) in enumerate(frames + edges):
            await socket.send(raw)
            replies = await socket.until_pong(f"fuzz-{i}")
            if socket.close_code is not None:
                wrong.append(f"{label}: connection closed with {socket.close_code}")
                break
            codes = [r.get("code") for r in replies if r.get("type") == "error"]
            server_errors += [label for code in codes if code == "server_error"]
            if i < len(frames):  # malformed: exactly one error frame, with a documented code
                is_wrong = len(replies) != 1 or len(codes) != 1
            else:  # out of range: documented frames only
                is_wrong = any(r.get("type") not in SERVER_FRAMES for r in replies)
            if is_wrong or not set(codes) <= DOCUMENTED_CODES:
                wrong.append(f"{label}: {replies}")
    finally:
        await ws.disconnect()

    print(
        f"\nws fuzz: {len(frames)} malformed + {len(edges)} out-of-range frames, "
        f"{len(server_errors)} server errors, "
        f"{len(wrong)} wrong answers, rows written: {(await _rows(line)) != rows_before}"
    )
    assert not server_errors, server_errors
    assert not wrong, "\n".join(wrong[:20])
    assert socket.close_code is None or socket.close_code in CLOSE_CODES
    assert await _rows(line) == rows_before == (0, 0)
