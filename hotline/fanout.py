"""Fan-out of hotline events: one publish per event, one subscriber per web process.

Why not ``group_send`` to every member's channel: that is one Redis round trip and one
queue per receiving connection, with a capacity limit that silently drops messages under
load. Instead:

- a service, after its transaction commits, ``PUBLISH``es the event once on the channel's
  Redis topic (:func:`publish_on_commit`);
- each web process runs one :class:`Hub` (per event loop) holding one Redis pub/sub
  connection, subscribed to the topics of the hotline channels its local connections
  follow; it hands each event's text (encoded once) to those local connections.

Redis pub/sub is at-most-once, like the channel layer: the database is the record.
Every ``message`` event carries its per-channel ``seq``; a connection that sees a gap, or
a hub whose Redis connection was re-established, re-reads the missing range from the
database (see ``hotline.consumers``). Nothing here needs another process's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import weakref
from typing import Protocol

import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.db import transaction

from core.redis_connection import redis_client

logger = logging.getLogger(__name__)

#: Non-message events (receipts, presence) are not sequenced.
UNSEQUENCED = 0
#: Events for the web processes themselves (e.g. a desk was removed), not forwarded.
CONTROL = -1


def topic_prefix() -> str:
    """Redis pub/sub ignores the database index, so topics name the database they are
    about: two deployments (or test runs) sharing one Redis never hear each other."""
    db = settings.DATABASES["default"]
    return getattr(settings, "HOTLINE_TOPIC_PREFIX", None) or f"hotline:{db['NAME']}:"


def channel_topic(channel_id: int) -> str:
    return f"{topic_prefix()}ch.{channel_id}"


def encode(seq: int, event: dict) -> str:
    """``<seq>|<json>``: the hub orders and dedups by seq without parsing the JSON."""
    return f"{seq}|{json.dumps(event, separators=(',', ':'))}"


_sync_client: redis.Redis | None = None


def _client() -> redis.Redis:
    global _sync_client
    if _sync_client is None:
        _sync_client = redis_client(socket_connect_timeout=2, socket_timeout=2)
    return _sync_client


_deferred = threading.local()


@contextlib.contextmanager
def deferred_publishes():
    """Collect this thread's publishes instead of sending them (the websocket consumer
    runs services in worker threads and publishes what they collected from its event
    loop, pipelined, without holding a database thread for a Redis round trip)."""
    _deferred.pending = pending = []
    try:
        yield pending
    finally:
        _deferred.pending = None


def publish_now(channel_id: int, event: dict, *, seq: int = UNSEQUENCED) -> None:
    """Publish once (or hand it to the collecting caller, see :func:`deferred_publishes`).
    Failures are logged, not raised: the database already has the truth."""
    topic, text = channel_topic(channel_id), encode(seq, event)
    pending = getattr(_deferred, "pending", None)
    if pending is not None:
        pending.append((topic, text))
        return
    try:
        _client().publish(topic, text)
    except redis.RedisError:
        logger.warning("could not publish %s on line %s", event.get("type"), channel_id)


def publish_on_commit(channel_id: int, event: dict, *, seq: int = UNSEQUENCED) -> None:
    """Queue one publish of ``event`` on the channel's topic for after the commit."""
    if getattr(settings, "EVENTS_CHECK_JSON", False):
        event = json.loads(json.dumps(event))
    else:
        json.dumps(event)
    transaction.on_commit(lambda: publish_now(channel_id, event, seq=seq))


class Listener(Protocol):
    def hotline_push(self, channel_id: int, seq: int, text: str) -> None: ...

    def hotline_resync(self, channel_id: int) -> None: ...


class Hub:
    """One per process and event loop: a Redis subscriber dispatching to local listeners."""

    def __init__(self):
        self.listeners: dict[int, set[Listener]] = {}
        self.topics: dict[str, int] = {}
        self._redis: aioredis.Redis | None = None
        self._pubsub = None
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()
        self._control = f"{topic_prefix()}hub"
        self._confirmations: dict[str, asyncio.Future] = {}
        self._outgoing: list[tuple[str, str]] = []
        self._flushing = False
        self._publisher: aioredis.Redis | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def add(self, channel_id: int, listener: Listener) -> None:
        """Follow a channel for ``listener``. Returns once Redis has confirmed the
        subscription, so anything committed after this returns reaches the listener
        live, and anything before it is in the database for the replay."""
        await self.start()
        async with self._lock:
            members = self.listeners.setdefault(channel_id, set())
            first = not members
            members.add(listener)
            if first:
                topic = channel_topic(channel_id)
                self.topics[topic] = channel_id
                confirmed = self._confirmations.setdefault(
                    topic, asyncio.get_running_loop().create_future()
                )
                await self._pubsub.subscribe(topic)
            else:
                confirmed = self._confirmations.get(channel_topic(channel_id))
        if confirmed is not None:
            await asyncio.wait_for(asyncio.shield(confirmed), timeout=10)

    async def discard(self, channel_id: int, listener: Listener) -> None:
        async with self._lock:
            members = self.listeners.get(channel_id)
            if not members:
                return
            members.discard(listener)
            if not members:
                del self.listeners[channel_id]
                topic = channel_topic(channel_id)
                self.topics.pop(topic, None)
                # (if this fails, the reconnect loop resubscribes only what is wanted)
                with contextlib.suppress(redis.RedisError, OSError):
                    await self._pubsub.unsubscribe(topic)

    def publish(self, items: list[tuple[str, str]]) -> None:
        """Queue already-committed events for publishing from this loop, in order,
        pipelined with whatever else is waiting (one round trip for many)."""
        self._outgoing.extend(items)
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            if self._publisher is None:
                self._publisher = redis_client(asynchronous=True, socket_connect_timeout=2)
            while self._outgoing:
                batch, self._outgoing = self._outgoing, []
                try:
                    async with self._publisher.pipeline(transaction=False) as pipe:
                        for topic, text in batch:
                            pipe.publish(topic, text)
                        await pipe.execute()
                except (redis.RedisError, OSError):
                    logger.warning("could not publish %d hotline events", len(batch))
        finally:
            self._flushing = False

    async def stop(self) -> None:
        """Stop the subscriber (tests; a web process keeps its hub until it exits)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close_quietly()
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await self._publisher.aclose()
        _hubs.pop(asyncio.get_running_loop(), None)

    async def _connect(self) -> None:
        self._redis = redis_client(asynchronous=True, socket_connect_timeout=2)
        self._pubsub = self._redis.pubsub()
        await self._pubsub.subscribe(self._control, *self.topics)

    async def _run(self) -> None:
        reconnecting = False
        while True:
            try:
                async with self._lock:
                    await self._connect()
                self._ready.set()
                if reconnecting:
                    # Whatever was published while we were away is in the database.
                    for channel_id, listeners in list(self.listeners.items()):
                        for listener in list(listeners):
                            listener.hotline_resync(channel_id)
                reconnecting = True
                while True:
                    message = await self._pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    if message["type"] == "message":
                        self._dispatch(message["channel"], message["data"])
                    elif message["type"] == "subscribe":
                        confirmed = self._confirmations.pop(message["channel"].decode(), None)
                        if confirmed is not None and not confirmed.done():
                            confirmed.set_result(True)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("hotline hub lost Redis; reconnecting", exc_info=True)
                self._ready.clear()
                await self._close_quietly()
                await asyncio.sleep(0.5)

    def _dispatch(self, topic: bytes, data: bytes) -> None:
        channel_id = self.topics.get(topic.decode())
        if channel_id is None:
            return
        listeners = self.listeners.get(channel_id)
        if not listeners:
            return
        head, _, text = data.decode().partition("|")
        seq = int(head)
        for listener in list(listeners):
            try:
                listener.hotline_push(channel_id, seq, text)
            except Exception:
                logger.exception("hotline listener failed")

    async def _close_quietly(self) -> None:
        try:
            if self._pubsub is not None:
                await self._pubsub.aclose()
            if self._redis is not None:
                await self._redis.aclose()
        except Exception:  # nosec B110  # closing a dead connection: nothing to do
            pass


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    """The hub of the running event loop (one per process in production)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub()
    return hub
