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
database (see ``hotline.consumers``). A gap is only seen when a later message arrives,
so the hub also reads the heads of the lines it follows (each line's ``last_seq``, one
query per process every ``HOTLINE_HUB_HEAD_CHECK_SECONDS``): a connection still short of
the head read one check earlier lost a live event (a process died between its commit
and its publish, Redis dropped it) and re-reads. That bounds how late a lost event can
be, whatever lost it, and keeps the processes talking while Redis is down. Nothing here
needs another process's memory.

Redis going away never holds up a sender: a web process publishes through its hub's
bounded queue (:meth:`Hub.publish`, also from sync request threads), other processes
with a bounded synchronous publish whose failures are kept for the next attempt; the
hub health-checks its connection (PING; silence means dead) and re-syncs every listener
after each reconnect. Connections are made by ``core.redis``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import weakref
from collections import deque
from typing import Protocol

import redis
from django.conf import settings
from django.db import close_old_connections, transaction

from core import redis as core_redis
from core.metrics import HOTLINE_LINE_REPAIRS
from core.redis import Breaker
from hotline.metrics import observe_fanout_lag

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


#: A failed publish opens this: later publishes go straight to :data:`_unsent` for a few
#: seconds instead of each paying a timeout inside somebody's request.
_breaker = Breaker(seconds=3.0)
#: Committed events that could not be handed to Redis yet (oldest dropped beyond the
#: bound: a connection that misses one re-reads it from the database on the next seq).
MAX_UNSENT = 10_000
_unsent: deque[tuple[str, str]] = deque(maxlen=MAX_UNSENT)
_unsent_lock = threading.Lock()
#: The hub's own PING payload after (re)subscribing: its PONG means "all confirmed".
RESUBSCRIBED = "hub-resubscribed"


def _publish_sync(items: list[tuple[str, str]]) -> None:
    """Publish ``items`` (after whatever is still unsent), pipelined, bounded in time."""
    with _unsent_lock:
        if _breaker.is_open:
            _unsent.extend(items)
            return
        batch = [*_unsent, *items]
        _unsent.clear()
    try:
        with core_redis.sync_client().pipeline(transaction=False) as pipe:
            for topic, text in batch:
                pipe.publish(topic, text)
            pipe.execute()
        _breaker.succeeded()
    except (redis.RedisError, OSError):
        _breaker.failed()
        with _unsent_lock:
            later = list(_unsent)
            _unsent.clear()
            _unsent.extend([*batch, *later])
        logger.warning("could not publish %d hotline events; kept to retry", len(batch))


def take_unsent() -> list[tuple[str, str]]:
    """Hand over what this process could not publish yet (the hub retries it)."""
    with _unsent_lock:
        items = list(_unsent)
        _unsent.clear()
    return items


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
    Never raises and never waits longer than ``REDIS_COMMAND_TIMEOUT_SECONDS``: with Redis
    down the event is kept and sent again later (the database already has the truth)."""
    topic, text = channel_topic(channel_id), encode(seq, event)
    pending = getattr(_deferred, "pending", None)
    if pending is not None:
        pending.append((topic, text))
        return
    hub = _running_hub()
    if hub is not None:
        # A web process: its hub publishes (bounded queue, no request waits on Redis) and,
        # while Redis is away, hands the event to this process's own connections.
        hub.loop.call_soon_threadsafe(hub.publish, [(topic, text)])
        return
    _publish_sync([(topic, text)])


def _running_hub() -> Hub | None:
    """The hub of a running event loop of this process other than the caller's own
    (a sync view or service thread of a web process); None in workers and scripts."""
    try:
        own = asyncio.get_running_loop()
    except RuntimeError:
        own = None
    for loop, hub in list(_hubs.items()):
        if loop is not own and loop.is_running() and not loop.is_closed():
            return hub
    return None


def publish_on_commit(channel_id: int, event: dict, *, seq: int = UNSEQUENCED) -> None:
    """Queue one publish of ``event`` on the channel's topic for after the commit."""
    if getattr(settings, "EVENTS_CHECK_JSON", False):
        event = json.loads(json.dumps(event))
    else:
        json.dumps(event)
    transaction.on_commit(lambda: publish_now(channel_id, event, seq=seq), robust=True)


class Listener(Protocol):
    def hotline_push(self, channel_id: int, seq: int, text: str) -> None: ...

    def hotline_resync(self, channel_id: int) -> None: ...

    def hotline_head(self, channel_id: int, head: int) -> bool:
        """The line held ``head`` a check ago: re-read if short of it (returns whether)."""
        ...


def line_heads(channel_ids: list[int]) -> dict[int, int]:
    """Each line's highest seq in the database (a worker thread's own connection)."""
    from hotline.models import HotlineChannel

    close_old_connections()
    try:
        return dict(HotlineChannel.objects.filter(pk__in=channel_ids).values_list("pk", "last_seq"))
    finally:
        close_old_connections()


class Hub:
    """One per process and event loop: a Redis subscriber dispatching to local listeners.

    Its connection is health-checked: a PING every ``HOTLINE_HUB_PING_SECONDS``, and no
    answer of any kind for ``HOTLINE_HUB_DEAD_SECONDS`` counts as a lost connection (a
    half-open TCP connection never errors by itself). After every reconnect it waits for
    a PONG (Redis answers in order, so every subscription is confirmed by then) and asks
    every listener to re-read its lines from the database: whatever was published while
    it was away reaches the clients within a second or two of Redis answering again.

    Publishing from this loop (:meth:`publish`) goes through a bounded queue
    (``HOTLINE_HUB_MAX_PENDING``; the oldest are dropped beyond it and re-read by the
    connections that notice the gap). While Redis is away, events are also handed to
    this process's own listeners at once, so people on the same process keep talking.

    Every ``HOTLINE_HUB_HEAD_CHECK_SECONDS`` it reads the heads of the lines it follows
    from the database and hands each listener the heads of the check before: one that
    has not been sent that far lost a live event and re-reads (:meth:`Listener.hotline_head`).
    """

    def __init__(self, url: str | None = None):
        # None: the deployment's Redis, however it is reached (URL or Sentinel).
        self.url = url
        self.loop = asyncio.get_running_loop()
        self.listeners: dict[int, set[Listener]] = {}
        self.topics: dict[str, int] = {}
        self.connected = False
        self.reconnects = 0
        self.dropped = 0
        self.ping_seconds = float(getattr(settings, "HOTLINE_HUB_PING_SECONDS", 5))
        self.dead_seconds = float(getattr(settings, "HOTLINE_HUB_DEAD_SECONDS", 12))
        self.max_pending = int(getattr(settings, "HOTLINE_HUB_MAX_PENDING", 10_000))
        self.head_check_seconds = float(getattr(settings, "HOTLINE_HUB_HEAD_CHECK_SECONDS", 2))
        self.repairs = 0
        self._heads: dict[int, int] = {}
        self._heads_task: asyncio.Task | None = None
        self._redis = None
        self._pubsub = None
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()
        self._control = f"{topic_prefix()}hub"
        self._confirmations: dict[str, asyncio.Future] = {}
        self._late: set[str] = set()
        self._outgoing: deque[tuple[str, str]] = deque()
        self._flushing = False
        self._publisher = None
        self._publish_failed_at = 0.0

    async def start(self) -> None:
        """Start the subscriber; wait briefly for Redis, never longer than a connect."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        if self._heads_task is None and self.head_check_seconds > 0:
            self._heads_task = asyncio.get_running_loop().create_task(self._watch_heads())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                self._ready.wait(),
                timeout=core_redis.connect_timeout() + core_redis.command_timeout(),
            )

    async def add(self, channel_id: int, listener: Listener) -> None:
        """Follow a channel for ``listener``. Returns once Redis has confirmed the
        subscription, so anything committed after this returns reaches the listener
        live, and anything before it is in the database for the replay. With Redis
        away it returns at once: the listener is re-synced when the hub reconnects."""
        await self.start()
        confirmed = None
        topic = channel_topic(channel_id)
        async with self._lock:
            members = self.listeners.setdefault(channel_id, set())
            first = not members
            members.add(listener)
            if first:
                self.topics[topic] = channel_id
                if self.connected:
                    confirmed = self._confirmations.setdefault(
                        topic, asyncio.get_running_loop().create_future()
                    )
                    try:
                        await core_redis.bounded(self._pubsub.subscribe(topic))
                    except (redis.RedisError, OSError, TimeoutError):
                        confirmed = None  # the reconnect subscribes it and re-syncs
            else:
                confirmed = self._confirmations.get(topic)
        if confirmed is not None:
            try:
                await asyncio.wait_for(
                    asyncio.shield(confirmed), timeout=core_redis.command_timeout() * 2
                )
            except TimeoutError:
                self._late.add(topic)  # re-synced when the confirmation comes

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
                if self.connected:
                    # (if this fails, the reconnect loop resubscribes only what is wanted)
                    with contextlib.suppress(redis.RedisError, OSError, TimeoutError):
                        await core_redis.bounded(self._pubsub.unsubscribe(topic))

    def publish(self, items: list[tuple[str, str]]) -> None:
        """Queue already-committed events for publishing from this loop, in order,
        pipelined with whatever else is waiting (one round trip for many). Never
        blocks; while Redis is away the events also go to this process's listeners."""
        if not self.connected:
            for topic, text in items:
                self._dispatch(topic, text)
        self._outgoing.extend(items)
        overflow = len(self._outgoing) - self.max_pending
        if overflow > 0:
            for _ in range(overflow):
                self._outgoing.popleft()
            self.dropped += overflow
            logger.warning("hotline hub publish queue full: dropped %d oldest events", overflow)
        self._kick()

    def _kick(self) -> None:
        if self._outgoing and not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            if self._publisher is None:
                self._publisher = core_redis.async_client(self.url)
            while self._outgoing:
                batch = list(self._outgoing)
                try:
                    async with self._publisher.pipeline(transaction=False) as pipe:
                        for topic, text in batch:
                            pipe.publish(topic, text)
                        await core_redis.bounded(pipe.execute())
                except (redis.RedisError, OSError, TimeoutError):
                    # Kept (in order) for the next attempt: after a reconnect or a tick,
                    # on fresh connections (a timed-out one may be left mid-reply).
                    self._publish_failed_at = time.monotonic()
                    logger.warning("could not publish %d hotline events; kept", len(batch))
                    publisher, self._publisher = self._publisher, None
                    with contextlib.suppress(Exception):
                        await publisher.aclose()
                    return
                for _ in range(len(batch)):
                    self._outgoing.popleft()
        finally:
            self._flushing = False

    async def stop(self) -> None:
        """Stop the subscriber (tests; a web process keeps its hub until it exits)."""
        for task in (self._task, self._heads_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._heads_task = None
        await self._close_quietly()
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await self._publisher.aclose()
        _hubs.pop(asyncio.get_running_loop(), None)

    async def _watch_heads(self) -> None:
        while True:
            await asyncio.sleep(self.head_check_seconds)
            try:
                await self.check_heads()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away: the next check, or the resume
                logger.debug("could not read the heads of the hotline lines", exc_info=True)

    async def check_heads(self) -> int:
        """Read the heads of the followed lines; let every listener compare itself with
        the heads read at the previous check (anything published in time has arrived by
        now). Returns how many listeners re-read."""
        previous = self._heads
        lines = list(self.listeners)
        self._heads = await asyncio.to_thread(line_heads, lines) if lines else {}
        repaired = 0
        for channel_id, head in previous.items():
            for listener in list(self.listeners.get(channel_id, ())):
                if listener.hotline_head(channel_id, head):
                    repaired += 1
        if repaired:
            self.repairs += repaired
            HOTLINE_LINE_REPAIRS.inc(repaired)
            logger.info("%d hotline connections re-read a line: a live event was lost", repaired)
        return repaired

    async def _connect(self) -> None:
        self._redis = core_redis.async_client(
            self.url, socket_timeout=None, health_check_interval=0
        )
        self._pubsub = self._redis.pubsub()
        await self._pubsub.subscribe(self._control, *self.topics)
        # Redis answers in order: this PONG comes after every subscription above.
        await self._pubsub.ping(RESUBSCRIBED)

    async def _run(self) -> None:
        while True:
            try:
                async with self._lock:
                    await core_redis.bounded(
                        self._connect(), core_redis.connect_timeout() + core_redis.command_timeout()
                    )
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception:
                if self.connected:
                    logger.warning("hotline hub lost Redis; reconnecting", exc_info=True)
                self.connected = False
                self._ready.clear()
                await self._close_quietly()
                await asyncio.sleep(0.5)

    async def _listen(self) -> None:
        heard = pinged = ticked = time.monotonic()
        while True:
            message = await self._pubsub.get_message(timeout=1.0)
            now = time.monotonic()
            if now - ticked >= 1.0:  # also while events keep coming
                ticked = now
                self._tick(now)
            if message is None:
                if now - heard > self.dead_seconds:
                    raise redis.ConnectionError(f"no answer from Redis for {now - heard:.0f} s")
                if now - pinged >= self.ping_seconds:
                    pinged = now
                    await core_redis.bounded(self._pubsub.ping())
                continue
            heard = now
            kind = message["type"]
            if kind == "message":
                self._dispatch(message["channel"], message["data"])
            elif kind == "subscribe":
                topic = message["channel"].decode()
                confirmed = self._confirmations.pop(topic, None)
                if confirmed is not None and not confirmed.done():
                    confirmed.set_result(True)
                if topic in self._late:
                    self._late.discard(topic)
                    self._resync_topic(topic)
            elif kind == "pong" and message["data"] == RESUBSCRIBED.encode():
                self._back_online()

    def _back_online(self) -> None:
        """Every subscription is confirmed: re-read what may have been missed, publish
        what was kept."""
        self.connected = True
        self._ready.set()
        # (also on the first connect: a listener may have been added before it)
        for channel_id, listeners in list(self.listeners.items()):
            for listener in list(listeners):
                listener.hotline_resync(channel_id)
        self.reconnects += 1
        self._outgoing.extendleft(reversed(take_unsent()))
        self._kick()

    def _tick(self, now: float) -> None:
        """Once a second: retry publishes kept after a failure."""
        if self._outgoing and now - self._publish_failed_at >= 1.0:
            self._kick()
        elif _unsent and not _breaker.is_open:
            self.publish(take_unsent())

    def _resync_topic(self, topic: str) -> None:
        channel_id = self.topics.get(topic)
        for listener in list(self.listeners.get(channel_id, ())):
            listener.hotline_resync(channel_id)

    def _dispatch(self, topic: bytes | str, data: bytes | str) -> None:
        channel_id = self.topics.get(topic.decode() if isinstance(topic, bytes) else topic)
        if channel_id is None:
            return
        listeners = self.listeners.get(channel_id)
        if not listeners:
            return
        head, _, text = (data.decode() if isinstance(data, bytes) else data).partition("|")
        seq = int(head)
        if seq > 0:
            observe_fanout_lag(text)
        for listener in list(listeners):
            try:
                listener.hotline_push(channel_id, seq, text)
            except Exception:
                logger.exception("hotline listener failed")

    async def _close_quietly(self) -> None:
        try:
            if self._pubsub is not None:
                await core_redis.bounded(self._pubsub.aclose())
            if self._redis is not None:
                await core_redis.bounded(self._redis.aclose())
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
