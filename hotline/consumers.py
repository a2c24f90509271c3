"""The websocket endpoint of a desk's people and systems (``/ws/v1/``).

Protocol v1 is defined in ``hotline.protocol`` and documented in
``docs/hotline-protocol.md``. This consumer is an edge: it parses and validates a frame,
calls a service or selector, and replies. What it owns is delivery:

- ``subscribe`` registers the connection with the process's fan-out hub *first*
  (buffering live events), then a ``hotline.ordering.LineOrdering`` replays from the
  database everything after ``since_seq``, drains the buffer and goes live. Every
  ``message`` frame a client gets on a line is the next seq: duplicates are dropped,
  and a gap (the transport lost an event) makes the connection re-read the missing
  range from the database.
- Everything it sends goes through one outgoing queue and one writer task, so frames
  never interleave, and a slow client never holds up the hub (or anybody else): if its
  queue overflows it is closed with 4408 and resumes with ``since_seq``.
- A token bucket limits frames per connection; flooding past it closes with 4429.
- Access is never taken from the connect-time snapshot when it matters: every action
  re-reads the person's desks from the database, and an ``access.changed`` event on the
  person's group (``directory.signals``: removed from a desk, role changed, deactivated,
  logged out, token deleted) makes each of their connections re-check and close with
  4403 if anything they had is gone. A ``ping`` re-checks too, in case an event was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import logging
import time
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.db import close_old_connections, connection
from django.utils import translation
from django.utils.crypto import constant_time_compare

from core.disclosure import may_see
from core.errors import DomainError, error_body, error_frame, is_database_unavailable
from core.events import desk_group, sends_handed_to, user_group
from core.metrics import EXERCISE_TRAFFIC, HOTLINE_DELIVERED, WEBSOCKET_CONNECTIONS
from core.redis import bounded
from directory.access import Access, access_for
from directory.models import WRITING_ROLES
from directory.selectors import token_is_live
from directory.signals import ACCESS_CHANGED
from hotline import protocol
from hotline.fanout import CONTROL, deferred_publishes, get_hub
from hotline.ordering import LineOrdering
from hotline.protocol import (
    CLIENT_FRAMES,
    CLOSE_ACCESS_CHANGED,
    CLOSE_FLOODING,
    CLOSE_TOO_SLOW,
    CLOSE_UNAUTHENTICATED,
    MAX_FRAME_BYTES,
    MAX_READ_FRAME_BYTES,
    PROTOCOL_VERSION,
    RECIPIENTS_KEY,
    message_frame,
    withheld_frame,
)
from hotline.selectors import (
    channel_for,
    member_desk_ids,
    message_visible_to,
    messages_in,
    presence_of,
)
from hotline.services import messages as message_services
from hotline.services import presence as presence_services
from hotline.services import receipts as receipt_services

PRESENCE_REFRESH_SECONDS = 30
#: How often a connection that lost the channel layer tries its groups again.
LAYER_RETRY_SECONDS = 2.0
#: What only a drill's message frame holds (see ``hotline.protocol.message_frame``).
EXERCISE_IN_FRAME = ',"exercise":true'

logger = logging.getLogger(__name__)


def _rejoin_seconds() -> float:
    return float(getattr(settings, "CHANNEL_GROUP_REJOIN_SECONDS", 3600))


# --- presence heartbeat of this process ----------------------------------------------------
#: Connection ids open in this process: its heartbeat keeps their presence rows fresh, so
#: rows whose heartbeat stopped (the process crashed) are swept and announced offline.
_live_connections: set[str] = set()
_heartbeats: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _start_presence_heartbeat() -> None:
    loop = asyncio.get_running_loop()
    task = _heartbeats.get(loop)
    if task is None or task.done():
        _heartbeats[loop] = loop.create_task(_presence_heartbeat())


async def _presence_heartbeat() -> None:
    while True:
        await asyncio.sleep(presence_services.heartbeat_seconds())
        if not _live_connections:
            continue
        try:
            await db(presence_services.connections_alive, connections=set(_live_connections))
        except Exception:  # database away: the next beat tries again
            logger.warning("presence heartbeat failed", exc_info=True)


# Re-exported for callers of the skeleton's names.
__all__ = ["CLOSE_UNAUTHENTICATED", "MAX_FRAME_BYTES", "PROTOCOL_VERSION", "DeskConsumer"]


def _in_language(language, loop, func, args, kwargs):
    with translation.override(language):
        return _run_in_db(loop, func, args, kwargs)


def _run_in_db(loop, func, args, kwargs):
    """Run ``func`` on this thread's database connection; returns (result, exception,
    publishes collected). A connection that failed (the database restarted, a failover,
    a reset) is closed here, whatever state Django left it in, so this thread's next call
    connects afresh instead of failing on the dead one until it ages out."""
    try:
        close_old_connections()
    except Exception:  # a dead connection's own checks failed: drop it
        _drop_connection()
    with deferred_publishes() as pending, sends_handed_to(loop):
        try:
            return func(*args, **kwargs), None, pending
        except Exception as exc:
            if is_database_unavailable(exc):
                _drop_connection()
            return None, exc, pending
        finally:
            try:
                close_old_connections()
            except Exception:
                _drop_connection()


def _drop_connection() -> None:
    """Forget this thread's database connection (closing it if it still can be).

    A pooled connection (``DATABASE_POOL``) goes back to its pool, which discards a broken
    one and opens a replacement: one that is never handed back is a slot the pool counts
    as lent for good, so a connection ``close()`` could not return is closed here and
    returned anyway."""
    raw = connection.connection
    try:
        connection.close()
    except Exception:  # already dead: nothing to close politely
        logger.debug("closing a failed database connection", exc_info=True)
    pool = getattr(raw, "_pool", None)
    if pool is not None and connection.connection is raw:
        with contextlib.suppress(Exception):
            raw.close()
        with contextlib.suppress(Exception):
            pool.putconn(raw)  # closed: the pool drops it and opens another
    # ``close()`` keeps the object while Django thinks a transaction is open; a thread of
    # this pool starts every call outside one, so nothing of it is worth keeping.
    connection.connection = None
    connection.in_atomic_block = False
    connection.closed_in_transaction = False
    connection.needs_rollback = False
    connection.atomic_blocks = []
    connection.savepoint_ids = []
    connection.run_on_commit = []


_executor: ThreadPoolExecutor | None = None


async def db(func, *args, **kwargs):
    """Run a service/selector in a worker thread with its own database connection.

    Not thread-sensitive (unlike ``database_sync_to_async``): sends on different
    connections proceed in parallel instead of queueing behind one thread. The pool is
    the hotline's own (``HOTLINE_DB_THREADS``): a send mostly waits for the database,
    so more threads than cores keeps the database busy instead of the queue long.
    """
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=getattr(settings, "HOTLINE_DB_THREADS", 16), thread_name_prefix="hotline-db"
        )
    loop = asyncio.get_running_loop()
    # In the connection's language (core.ws_auth), so a refusal is said in it: a pool
    # thread does not see the caller's (asgiref keeps it from threads it did not start).
    call = functools.partial(_in_language, translation.get_language(), loop, func, args, kwargs)
    result, exc, pending = await loop.run_in_executor(_executor, call)
    if pending:  # committed: publish from here, pipelined with other connections' events
        get_hub().publish(pending)
    if exc is not None:
        raise exc
    return result


def _replay_rows(access, channel_id: int, after_seq: int, limit: int) -> list[tuple[int, str]]:
    rows = messages_in(channel_id, after_seq=after_seq).prefetch_related("recipient_desks")
    return [
        (
            m.seq,
            json.dumps(
                message_frame(m)
                if message_visible_to(access, m)
                else withheld_frame(channel_id, m.seq),
                separators=(",", ":"),
            ),
        )
        for m in rows[:limit]
    ]


def _marked_for(access, seq: int, text: str) -> str:
    """A live frame as this connection may get it: a narrow-marked message (it names
    its recipients) goes out without them, or as ``withheld`` if the marking keeps it
    from this connection's person."""
    if RECIPIENTS_KEY not in text:
        return text
    frame = json.loads(text)
    recipients = frame.pop(RECIPIENTS_KEY, None)
    if recipients is None:
        return text
    if not may_see(access, tlp=frame["tlp"], recipients=[tuple(r) for r in recipients]):
        frame = withheld_frame(frame["channel"], seq)
    return json.dumps(frame, separators=(",", ":"))


def _grants(access: Access) -> frozenset[tuple[int, str]]:
    return frozenset((m.desk_id, m.role) for m in access.memberships)


def _fresh(user):
    """``user`` without its cached access: the next ``access_for`` reads the database."""
    user = copy.copy(user)
    user.__dict__.pop("_crisis_access", None)
    return user


def _revoked_because(user_id: int, credential, grants) -> str | None:
    """Why this connection may no longer stay open, or None. Reads the database.

    ``credential`` is what it authenticated with (``core.ws_auth``): a browser session,
    or an API token, which must still exist and not have expired.
    """
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return "deactivated"
    kind, ref = credential
    if kind == "session":
        from importlib import import_module

        store = import_module(settings.SESSION_ENGINE).SessionStore(ref)
        data = store.load()
        if data.get(SESSION_KEY) != str(user_id) or not constant_time_compare(
            data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
        ):
            return "logged_out"
    elif not token_is_live(ref):
        return "token_revoked"
    if _grants(access_for(user)) != grants:
        return "access_changed"
    return None


def _visible_channel(user, channel_id: int):
    return channel_for(access_for(user), channel_id)


def _parse(raw: str | bytes):
    try:
        return json.loads(raw), None
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError (binary), deep nesting
        return None, exc


class TokenBucket:
    def __init__(self, rate: float, burst: float):
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class DeskConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        credential = self.scope.get("credential")  # core.ws_auth refuses a handshake without
        if user is None or not user.is_authenticated or credential is None:
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED, reason="Not authenticated.")
            return
        self.user = user
        # The person's group first: a change committed from here on reaches us as an
        # event, so the access read next can never be silently out of date.
        self.groups_joined = [user_group(user.pk)]
        self.layer_lost = False
        await self._join_groups()
        self.access = await database_sync_to_async(access_for)(_fresh(user))
        self.credential = tuple(credential)
        # Only a desk the person may act for counts as online (an auditor is not staff).
        self.presence_desks = {
            m.desk_id for m in self.access.memberships if m.role in WRITING_ROLES
        }
        self.connection_id = uuid.uuid4().hex
        self.subs: dict[int, LineOrdering] = {}
        self.closing = False
        self.outbox: asyncio.Queue[str] = asyncio.Queue(
            maxsize=getattr(settings, "HOTLINE_WS_OUTBOX", 2000)
        )
        self.bucket = TokenBucket(
            getattr(settings, "HOTLINE_WS_RATE_PER_SECOND", 30),
            getattr(settings, "HOTLINE_WS_BURST", 60),
        )
        self.violations = 0
        self.seen_at = time.monotonic()
        self.groups_joined += [desk_group(d) for d in sorted(self.access.desk_ids)]
        await self._join_groups()
        await self.accept()
        WEBSOCKET_CONNECTIONS.inc()
        self.counted = True
        self.pump = asyncio.get_running_loop().create_task(self._pump())
        self.rejoin = asyncio.get_running_loop().create_task(self._keep_groups())
        _live_connections.add(self.connection_id)
        _start_presence_heartbeat()
        if self.presence_desks:
            await db(
                presence_services.connection_opened,
                user=user,
                desk_ids=self.presence_desks,
                connection=self.connection_id,
            )
        await self.send_json(
            {
                "type": "hello",
                "protocol": PROTOCOL_VERSION,
                "user": user.get_username(),
                "desks": sorted(self.access.desk_ids),
            }
        )

    async def disconnect(self, code):
        self.closing = True
        if getattr(self, "counted", False):
            self.counted = False
            WEBSOCKET_CONNECTIONS.dec()
        if hasattr(self, "rejoin"):
            self.rejoin.cancel()
        for group in getattr(self, "groups_joined", []):
            with contextlib.suppress(Exception):  # Redis away: the membership expires
                await bounded(self.channel_layer.group_discard(group, self.channel_name))
        if not hasattr(self, "connection_id"):
            return
        _live_connections.discard(self.connection_id)
        hub = get_hub()
        for channel_id, sub in list(self.subs.items()):
            sub.close()
            await hub.discard(channel_id, self)
        self.subs.clear()
        self.pump.cancel()
        if self.presence_desks:
            with contextlib.suppress(Exception):
                await db(presence_services.connection_closed, connection=self.connection_id)

    # --- the channel layer: never fatal, groups kept fresh --------------------------------
    async def __call__(self, scope, receive, send):
        """As ``AsyncConsumer.__call__``, but the channel layer's receive never raises:
        with Redis down the socket stays open (sends commit over it; hotline delivery
        goes through the hub), and the connection re-joins its groups when Redis is back."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = self._layer_receive
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            await await_many_dispatch([receive, self.channel_receive], self.dispatch)

    async def _layer_receive(self):
        while True:
            try:
                return await self.channel_layer.receive(self.channel_name)
            except asyncio.CancelledError:
                raise
            except Exception:
                if not getattr(self, "layer_lost", True):
                    logger.warning("channel layer lost for %s", self.channel_name, exc_info=True)
                self.layer_lost = True
                await asyncio.sleep(LAYER_RETRY_SECONDS)

    async def _join_groups(self) -> bool:
        """(Re-)add this connection to its groups, each call bounded. Re-adding resets
        channels_redis' ``group_expiry`` clock. Returns whether all were joined."""
        try:
            for group in list(self.groups_joined):
                await bounded(self.channel_layer.group_add(group, self.channel_name))
        except Exception:
            if not self.layer_lost:
                logger.warning("could not join channel-layer groups; retrying", exc_info=True)
            self.layer_lost = True
            return False
        return True

    async def _keep_groups(self):
        """Re-join the groups well before ``group_expiry``; while the channel layer is
        lost, every few seconds. Once it is back the client is told to re-read what it
        shows (``resync``): events published meanwhile were lost in transport."""
        while not self.closing:
            lost = self.layer_lost
            every = LAYER_RETRY_SECONDS if lost else _rejoin_seconds()
            await asyncio.sleep(every)
            if await self._join_groups() and lost:
                self.layer_lost = False
                await self.send_json({"type": "resync", "reason": "transport_restored"})

    # --- outgoing ------------------------------------------------------------------------
    async def send_json(self, content, close=False):
        self._enqueue(json.dumps(content, separators=(",", ":")))

    def _emit_message(self, text: str) -> None:
        """A line's message frame (``LineOrdering``): counted as delivered, then queued."""
        if not self.closing:
            # ',"exercise":true' cannot occur inside a JSON string (its quote would be
            # escaped): only a drill's frame has it. Drill traffic is counted apart.
            if EXERCISE_IN_FRAME in text:
                EXERCISE_TRAFFIC.labels(what="hotline_delivered").inc()
            else:
                HOTLINE_DELIVERED.inc()
        self._enqueue(text)

    def _enqueue(self, text: str) -> None:
        if self.closing:
            return
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            # A client this far behind resumes from the database with since_seq.
            self.closing = True
            asyncio.get_running_loop().create_task(self.close(code=CLOSE_TOO_SLOW))

    async def _pump(self):
        try:
            while True:
                text = await self.outbox.get()
                await self.send(text_data=text)
        except asyncio.CancelledError:
            raise
        except Exception:  # the socket is gone; disconnect() cleans up
            self.closing = True

    async def send_error(self, code: str, message: str, *, ref=None, details=None):
        body = {"type": "error", **error_body(code, message, details)}
        if ref is not None:
            body["ref"] = ref
        await self.send_json(body)

    # --- incoming ------------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        allowed = self.bucket.take()
        raw = text_data if text_data is not None else (bytes_data or b"")
        size = len(raw) if isinstance(raw, bytes) or len(raw) * 4 <= MAX_FRAME_BYTES else None
        size = size if size is not None else len(raw.encode("utf-8", "surrogatepass"))
        if size > MAX_READ_FRAME_BYTES:  # the server should not even have read it
            self.closing = True
            await self.close(code=1009)
            return
        # Parsed before any refusal, so every error frame can echo the client's ref.
        frame, parse_error = _parse(raw)
        ref = frame.get("ref") if isinstance(frame, dict) else None
        if not allowed:
            self.violations += 1
            if self.violations > getattr(settings, "HOTLINE_WS_MAX_VIOLATIONS", 20):
                self.closing = True
                await self.close(code=CLOSE_FLOODING)
                return
            await self.send_error("rate_limited", "Too many frames: slow down.", ref=ref)
            return
        if text_data is None:
            await self.send_error("bad_frame", "Frames are JSON text, not binary.", ref=ref)
            return
        if size > MAX_FRAME_BYTES:
            await self.send_error(
                "frame_too_large",
                f"Frames are limited to {MAX_FRAME_BYTES} bytes.",
                ref=ref,
                details={"limit": MAX_FRAME_BYTES, "size": size},
            )
            return
        if parse_error is not None:
            await self.send_error("bad_json", f"Frame is not valid JSON: {parse_error}")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_error(
                "bad_frame", "A frame is a JSON object with a string 'type'.", ref=ref
            )
            return
        if frame["type"] not in CLIENT_FRAMES:
            await self.send_error("unknown_type", f"Unknown frame type {frame['type']!r}.", ref=ref)
            return
        try:
            protocol.validate_client_frame(frame)
            await getattr(self, "frame_" + frame["type"])(frame)
        except DomainError as exc:
            await self.send_json(error_frame(exc, ref=ref))
        except Exception as exc:
            if not is_database_unavailable(exc):
                # With the traceback and what was asked: a server_error the logs cannot
                # explain is one nobody can fix.
                logger.exception(
                    "websocket %s frame failed (user %s, ref %r)",
                    frame.get("type"),
                    getattr(self.user, "pk", None),
                    ref,
                )
            await self.send_json(error_frame(exc, ref=ref, logged=True))

    def _caller(self):
        """The person, for one action: their desks are read again from the database, so
        a removal counts at once even if the ``access.changed`` event was lost."""
        return _fresh(self.user)

    async def frame_ping(self, frame):
        await self.send_json({"type": "pong", "ref": frame.get("ref")})
        if time.monotonic() - self.seen_at > PRESENCE_REFRESH_SECONDS:
            self.seen_at = time.monotonic()
            if await self._access_revoked():
                return
            if self.presence_desks:
                await db(presence_services.connection_seen, connection=self.connection_id)

    async def frame_subscribe(self, frame):
        channel_id = frame["channel"]
        await db(_visible_channel, self._caller(), channel_id)  # 404 for hidden or missing
        old = self.subs.pop(channel_id, None)
        if old is not None:
            old.close()
        sub = LineOrdering(
            channel_id,
            since_seq=frame.get("since_seq") or 0,
            read_after=functools.partial(db, _replay_rows, self.access, channel_id),
            emit=self._emit_message,
        )
        self.subs[channel_id] = sub
        await get_hub().add(channel_id, self)
        replayed = await sub.catch_up()
        if replayed is None:
            return  # unsubscribed meanwhile
        # No await since catch_up went live, so this precedes every live frame.
        self._enqueue(
            json.dumps(
                {
                    "type": "subscribed",
                    "channel": channel_id,
                    "last_seq": sub.last_seq,
                    "replayed": replayed,
                    "ref": frame.get("ref"),
                }
            )
        )

    async def frame_unsubscribe(self, frame):
        sub = self.subs.pop(frame["channel"], None)
        if sub is not None:
            sub.close()
            await get_hub().discard(sub.line_id, self)
        await self.send_json(
            {"type": "unsubscribed", "channel": frame["channel"], "ref": frame.get("ref")}
        )

    async def frame_send(self, frame):
        message, created = await db(
            message_services.send_message,
            by=self._caller(),
            channel_id=frame["channel"],
            body=frame["body"],
            client_msg_id=frame["client_msg_id"],
            priority=frame.get("priority") or "routine",
            corrects_id=frame.get("corrects"),
            desk_id=frame.get("desk"),
            tlp=frame.get("tlp"),
        )
        await self.send_json(
            {
                "type": "sent",
                "channel": message.channel_id,
                "id": message.pk,
                "seq": message.seq,
                "client_msg_id": str(message.client_msg_id),
                "duplicate": not created,
                "ref": frame.get("ref"),
            }
        )

    async def frame_delivered(self, frame):
        count = await db(
            receipt_services.mark_delivered,
            by=self._caller(),
            channel_id=frame["channel"],
            up_to_seq=frame["up_to_seq"],
            desk_id=frame.get("desk"),
        )
        await self.send_json(
            {"type": "ok", "action": "delivered", "count": count, "ref": frame.get("ref")}
        )

    async def frame_read(self, frame):
        await db(
            receipt_services.mark_read,
            by=self._caller(),
            message_id=frame["message"],
            desk_id=frame.get("desk"),
        )
        await self.send_json({"type": "ok", "action": "read", "ref": frame.get("ref")})

    async def frame_ack(self, frame):
        await db(
            receipt_services.acknowledge_message,
            by=self._caller(),
            message_id=frame["message"],
            desk_id=frame.get("desk"),
        )
        await self.send_json({"type": "ok", "action": "ack", "ref": frame.get("ref")})

    async def frame_presence(self, frame):
        def read(user, channel_id):
            _visible_channel(user, channel_id)
            return presence_of(member_desk_ids(channel_id))

        for row in await db(read, self._caller(), frame["channel"]):
            await self.send_json({"type": "presence", "channel": frame["channel"], **row})

    # --- delivery order (hotline.ordering keeps it per line) --------------------------
    async def _recheck_access(self, channel_id: int) -> None:
        """One of our desks left the line: stop following it unless we still may."""
        try:
            await db(_visible_channel, self._caller(), channel_id)
        except DomainError:
            sub = self.subs.pop(channel_id, None)
            if sub is not None:
                sub.close()
                await get_hub().discard(channel_id, self)
                await self.send_json(
                    {"type": "unsubscribed", "channel": channel_id, "reason": "removed"}
                )

    # Called by the hub (same event loop, no await).
    def hotline_push(self, channel_id: int, seq: int, text: str) -> None:
        sub = self.subs.get(channel_id)
        if sub is None:
            return
        if seq == CONTROL:
            event = json.loads(text)
            if event.get("type") == "member_removed" and event["desk"] in self.access.desk_ids:
                asyncio.get_running_loop().create_task(self._recheck_access(channel_id))
        else:
            sub.push(seq, _marked_for(self.access, seq, text))

    def hotline_resync(self, channel_id: int) -> None:
        sub = self.subs.get(channel_id)
        if sub is not None:
            sub.resync()

    def hotline_head(self, channel_id: int, head: int) -> bool:
        sub = self.subs.get(channel_id)
        return sub is not None and sub.behind(head)

    # --- access changes (directory.signals) ---------------------------------------------
    async def _access_revoked(self, event: dict | None = None) -> bool:
        """Re-check this connection's person; close with 4403 if what they had is gone."""
        if self.closing:
            return True
        event = event or {}
        if event.get("reason") == "logged_out" and self.credential == (
            "session",
            event.get("session"),
        ):
            reason = "logged_out"  # named: no need to race the session's flush
        else:
            reason = await db(_revoked_because, self.user.pk, self.credential, _grants(self.access))
        if reason is None:
            return False
        self.closing = True
        await self.close(code=CLOSE_ACCESS_CHANGED)
        return True

    # Channel-layer handler: events published with core.events.publish_on_commit.
    async def push_event(self, message):
        event = message["event"]
        if event.get("type") == ACCESS_CHANGED:  # for us, never forwarded to the client
            await self._access_revoked(event)
            return
        await self.send_json(event)
