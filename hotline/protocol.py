"""The hotline websocket protocol, version 1: every frame defined once.

The consumer validates client frames with :func:`validate_client_frame`, services build
server frames with the ``*_frame`` helpers, ``docs/hotline-protocol.md`` embeds
:func:`render_markdown` (a test keeps the two equal) and the tests use the same tables.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from core.errors import InvalidInput
from core.tlp import TLP, label

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 64 * 1024
#: Larger frames are not read at all: the connection is closed with 1009 (message too
#: big). Run the server with the same limit (``uvicorn --ws-max-size 262144``) so it is
#: not buffered in the first place; between the two limits a frame gets
#: ``frame_too_large`` and the connection stays open.
MAX_READ_FRAME_BYTES = 4 * MAX_FRAME_BYTES

#: Close codes (4000-4999 are the application's own).
CLOSE_CODES = {
    4401: "Not authenticated (sent right after the handshake, with a reason): no or a "
    "bad, expired or revoked credential, a used or expired ticket, a token in the URL "
    "(`?token=` is refused), or a session that skipped two-step login. Connect with a "
    "session cookie, `Authorization: Token <key>`, or `?ticket=` from "
    "`POST /api/v1/auth/ws-ticket/`.",
    4403: "Your access changed or was revoked (removed from a desk, role changed, "
    "deactivated, logged out, API token revoked or expired). Reconnect: `hello` lists your "
    "desks now, or the connection is closed with 4401 if you may no longer connect. Also "
    "sent right after the handshake to a browser page of another site (`Origin` not "
    "allowed).",
    4408: "Too slow: the connection's outgoing queue overflowed. Reconnect and "
    "`subscribe` with your last `since_seq`; nothing is lost.",
    4429: "Flooding: the connection kept sending after `rate_limited` errors.",
    1009: f"Frame over {MAX_READ_FRAME_BYTES // 1024} KiB: not read at all.",
}
CLOSE_UNAUTHENTICATED = 4401
CLOSE_ACCESS_CHANGED = 4403
CLOSE_TOO_SLOW = 4408
CLOSE_FLOODING = 4429


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # int, seq, str, uuid, priority, tlp, any
    required: bool = True
    doc: str = ""


@dataclass(frozen=True)
class Frame:
    type: str
    doc: str
    fields: tuple[Field, ...] = field(default_factory=tuple)


REF = Field("ref", "any", False, "echoed in the reply, to match replies to requests")
DESK = Field("desk", "int", False, "the desk you act for (default: your desk on the line)")

CLIENT_FRAMES: dict[str, Frame] = {
    f.type: f
    for f in [
        Frame("ping", "Heartbeat; the server answers `pong` and refreshes presence.", (REF,)),
        Frame(
            "subscribe",
            "Follow a line: the server replays every message after `since_seq` in order, "
            "sends `subscribed`, then streams live `message` frames.",
            (
                Field("channel", "int", True, "line id"),
                Field("since_seq", "seq", False, "last seq you have (default 0: everything)"),
                REF,
            ),
        ),
        Frame("unsubscribe", "Stop following a line.", (Field("channel", "int"), REF)),
        Frame(
            "send",
            "Send a message. The `sent` reply comes only after it is committed. Sending the "
            "same `client_msg_id` again returns the original (`duplicate: true`).",
            (
                Field("channel", "int"),
                Field("client_msg_id", "uuid", True, "UUID chosen by the sender"),
                Field("body", "str", True, "text, at most 16,000 characters"),
                Field("priority", "priority", False, "routine (default), urgent or flash"),
                Field("corrects", "int", False, "id of the message this one corrects"),
                Field(
                    "tlp",
                    "tlp",
                    False,
                    "TLP marking (default AMBER): CLEAR, GREEN, AMBER, AMBER+STRICT or RED",
                ),
                DESK,
                REF,
            ),
        ),
        Frame(
            "delivered",
            "Your desk has received every message up to `up_to_seq` (delivered receipts).",
            (Field("channel", "int"), Field("up_to_seq", "seq"), DESK, REF),
        ),
        Frame("read", "Your desk has read a message.", (Field("message", "int"), DESK, REF)),
        Frame(
            "ack",
            "Your desk acknowledges a message (required for flash messages and line checks).",
            (Field("message", "int"), DESK, REF),
        ),
        Frame(
            "presence",
            "Ask who on a line is online; the server answers with `presence` frames.",
            (Field("channel", "int"), REF),
        ),
    ]
}

SERVER_FRAMES: dict[str, Frame] = {
    f.type: f
    for f in [
        Frame(
            "hello",
            "First frame after connecting.",
            (Field("protocol", "int"), Field("user", "str"), Field("desks", "any")),
        ),
        Frame("pong", "Answer to `ping`.", (REF,)),
        Frame(
            "resync",
            "The server's live transport (Redis) was interrupted and is back: events of "
            "your desks (crises, notifications) published meanwhile did not reach you. "
            "Re-read what you show. Followed lines need nothing: they are re-read by seq.",
            (Field("reason", "str", True, "transport_restored"),),
        ),
        Frame(
            "subscribed",
            "Replay is done; live messages follow.",
            (Field("channel", "int"), Field("last_seq", "seq"), Field("replayed", "int"), REF),
        ),
        Frame(
            "unsubscribed",
            "Answer to `unsubscribe`; also sent unasked when your desk was removed from "
            "the line (`reason: removed`).",
            (Field("channel", "int"), Field("reason", "str", False), REF),
        ),
        Frame(
            "message",
            "A message on a followed line, replayed or live; seqs are gapless per line.",
            (
                Field("channel", "int"),
                Field("seq", "seq"),
                Field("id", "int"),
                Field("kind", "str", True, "text or line_check"),
                Field("sender", "str", False, "username (null for line checks)"),
                Field("sender_desk", "int", False, "desk id (null for line checks)"),
                Field("body", "str"),
                Field("priority", "priority"),
                Field("client_msg_id", "uuid"),
                Field("corrects", "int", False),
                Field("tlp", "tlp", True, "its TLP marking (see docs/interoperability.md)"),
                Field("tlp_label", "str", True, "the marking as written, e.g. TLP:AMBER"),
                Field("created_at", "str", True, "ISO 8601, UTC"),
                Field(
                    "exercise",
                    "bool",
                    True,
                    "true on a line of an exercise crisis: drill traffic, never real",
                ),
            ),
        ),
        Frame(
            "withheld",
            "A message on a followed line that its TLP marking keeps from you (RED for its "
            "recipient desks only, AMBER+STRICT for their organisations): only its seq, so "
            "seqs stay gapless. Nothing of it is shown.",
            (Field("channel", "int"), Field("seq", "seq")),
        ),
        Frame(
            "sent",
            "Your message is committed.",
            (
                Field("channel", "int"),
                Field("id", "int"),
                Field("seq", "seq"),
                Field("client_msg_id", "uuid"),
                Field("duplicate", "any", True, "true if this id was sent before"),
                REF,
            ),
        ),
        Frame(
            "receipt",
            "A desk's receipt of a message changed.",
            (
                Field("channel", "int"),
                Field("message", "int"),
                Field("seq", "seq"),
                Field("desk", "int"),
                Field("delivered_at", "str", False),
                Field("read_at", "str", False),
                Field("acknowledged_at", "str", False),
                Field("by", "str", False, "username of who did it"),
            ),
        ),
        Frame(
            "ok",
            "Answer to `delivered`, `read`, `ack`.",
            (Field("action", "str"), Field("count", "int", False), REF),
        ),
        Frame(
            "presence",
            "Whether a desk is online and when it was last seen.",
            (
                Field("desk", "int"),
                Field("online", "any"),
                Field("last_seen_at", "str", False),
                Field("channel", "int", False),
            ),
        ),
        Frame(
            "escalation",
            "A flash message is still unacknowledged: step 1 re-notifies the desk, 2 its "
            "supervisors, 3 the regional coordinator. Sent to the sender's desk (which sees "
            "each step) and to whoever is being notified, subscribed or not.",
            (
                Field("channel", "int"),
                Field("message", "int"),
                Field("seq", "seq"),
                Field("step", "int"),
                Field("level", "str", True, "desk, supervisors or coordinator"),
                Field("desks", "any", True, "ids of the desks that have not acknowledged"),
            ),
        ),
        Frame(
            "line_status",
            "A line check passed or failed.",
            (
                Field("channel", "int"),
                Field("line_status", "str", True, "ok or degraded"),
                Field("last_check_ok_at", "str", False),
                Field("missing_desks", "any", False),
            ),
        ),
        Frame(
            "error",
            "A frame could not be taken; nothing was written.",
            (
                Field("code", "str"),
                Field("message", "str"),
                Field("details", "any"),
                REF,
            ),
        ),
    ]
}

PRIORITIES = ("routine", "urgent", "flash")


def _check(value, kind: str) -> bool:
    if kind == "any":
        return True
    if kind in ("int", "seq"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return ok and (value >= 0 if kind == "seq" else value > 0)
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "priority":
        return value in PRIORITIES
    if kind == "tlp":
        return value in TLP.values
    if kind == "uuid":
        if not isinstance(value, str):
            return False
        try:
            uuid.UUID(value)
        except ValueError:
            return False
        return True
    raise AssertionError(kind)


KIND_TEXT = {
    "int": "a positive integer",
    "seq": "an integer >= 0",
    "str": "a string",
    "bool": "true or false",
    "uuid": "a UUID string",
    "priority": "one of routine, urgent, flash",
    "tlp": "one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED",
    "any": "any JSON value",
}


def validate_client_frame(frame: dict) -> Frame:
    """Check a client frame's fields against its definition; raise ``InvalidInput``."""
    spec = CLIENT_FRAMES[frame["type"]]
    for f in spec.fields:
        if f.name not in frame or frame[f.name] is None:
            if f.required:
                raise InvalidInput(
                    f"'{frame['type']}' needs '{f.name}' ({KIND_TEXT[f.kind]}).",
                    code="missing_field",
                    details={"field": f.name},
                )
            continue
        if not _check(frame[f.name], f.kind):
            raise InvalidInput(
                f"'{f.name}' must be {KIND_TEXT[f.kind]}.",
                code="bad_field",
                details={"field": f.name},
            )
    return spec


def render_markdown() -> str:
    """The frame tables of ``docs/hotline-protocol.md`` (kept equal by a test)."""
    lines = []
    for title, frames in (("Client → server", CLIENT_FRAMES), ("Server → client", SERVER_FRAMES)):
        lines += [f"### {title}", ""]
        for frame in frames.values():
            lines += [f"#### `{frame.type}`", "", frame.doc, ""]
            if frame.fields:
                lines += ["| field | type | required | meaning |", "| --- | --- | --- | --- |"]
                for f in frame.fields:
                    req = "yes" if f.required else "no"
                    lines.append(f"| `{f.name}` | {KIND_TEXT[f.kind]} | {req} | {f.doc} |")
                lines.append("")
    lines += ["### Close codes", "", "| code | meaning |", "| --- | --- |"]
    lines += [f"| {code} | {text} |" for code, text in CLOSE_CODES.items()]
    return "\n".join(lines) + "\n"


# --- server frame builders (one rendering for replay, live and REST) ----------------------


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def message_frame(message) -> dict:
    return {
        "type": "message",
        "channel": message.channel_id,
        "seq": message.seq,
        "id": message.pk,
        "kind": message.kind,
        "sender": message.sender.get_username() if message.sender_id else None,
        "sender_desk": message.sender_desk_id,
        "body": message.body,
        "priority": message.priority,
        "client_msg_id": str(message.client_msg_id),
        "corrects": message.corrects_id,
        "tlp": message.tlp,
        "tlp_label": label(message.tlp),
        "created_at": _iso(message.created_at),
        "exercise": message_is_exercise(message),
    }


def message_is_exercise(message) -> bool:
    """Whether ``message`` is drill traffic: its line's flag. Read with the message where
    it is loaded (``messages_in`` annotates ``exercise``; ``append_message`` returns it),
    else through its line."""
    known = getattr(message, "exercise", None)
    return bool(message.channel.exercise if known is None else known)


def withheld_frame(channel_id: int, seq: int) -> dict:
    """What a connection gets instead of a message its TLP marking keeps from it."""
    return {"type": "withheld", "channel": channel_id, "seq": seq}


#: Key of a live message frame naming its recipients ``[[desk, state], …]`` (narrow
#: markings only); the consumer decides with it and strips it before sending.
RECIPIENTS_KEY = "_recipients"


def receipt_frame(receipt, *, by=None) -> dict:
    message = receipt.message
    return {
        "type": "receipt",
        "channel": message.channel_id,
        "message": message.pk,
        "seq": message.seq,
        "desk": receipt.desk_id,
        "delivered_at": _iso(receipt.delivered_at),
        "read_at": _iso(receipt.read_at),
        "acknowledged_at": _iso(receipt.acknowledged_at),
        "by": by.get_username() if by is not None else None,
    }
