"""Events leaving the database for the channel layer, always after commit.

Use :func:`publish_on_commit` from services: if the transaction rolls back, nobody is
told. Under test (``EVENTS_CHECK_JSON``) each event is round-tripped through JSON where it
is built, so an unserialisable event fails at the service, not later in a consumer.

The channel layer is transport, not storage: a client that misses an event catches up
from the database (hotline replay by sequence number, timeline by cursor).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import contextvars
import json
import logging
import os
import threading
import weakref

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections, transaction

from core.redis import Breaker, bounded

logger = logging.getLogger(__name__)


def desk_group(desk_id: int) -> str:
    """The channel-layer group every connection of a desk's people joins."""
    return f"desk.{desk_id}"


def user_group(user_id: int) -> str:
    """The channel-layer group every connection of one person joins (escalation to
    supervisors; access changes that must reach that person's open connections)."""
    return f"user.{user_id}"


#: Opened by a failed group send: later sends are skipped for a few seconds instead of
#: each paying a timeout (the database has the truth; clients catch up from it).
_breaker = Breaker(seconds=5.0)
#: Sends handed to a web process's event loop and not yet done; beyond this many, a send
#: is dropped (and logged) rather than queued: memory stays bounded while Redis hangs.
MAX_PENDING = 1000


async def _group_send(layer, group: str, event: dict) -> None:
    await bounded(layer.group_send(group, {"type": "push.event", "event": event}))


async def _send_guarded(layer, group: str, event: dict) -> None:
    """One send, skipped while the breaker is open, a failure noted (never raised)."""
    if _breaker.is_open:
        return  # skipped like any send while Redis is away
    try:
        await _group_send(layer, group, event)
        _breaker.succeeded()
    except Exception:  # transport down or slow: readers catch up from the database
        _failed(group, event)


def _failed(group: str, event: dict) -> None:
    _breaker.failed()
    logger.warning("could not publish %s to %s", event.get("type"), group, exc_info=True)


class _LoopSender:
    """A web process's sends, in order, on its server's event loop: the request that
    committed hands them over and answers at once; Redis' time (or its silence, up to the
    command timeout) is spent here, never in a request thread."""

    # Keyed weakly by its loop, so it holds no reference to it.
    def __init__(self):
        self.pending: collections.deque = collections.deque()
        self.task: asyncio.Task | None = None

    def submit(self, loop: asyncio.AbstractEventLoop, layer, group: str, event: dict) -> None:
        """From any thread."""
        loop.call_soon_threadsafe(self._enqueue, layer, group, event)

    def _enqueue(self, layer, group: str, event: dict) -> None:
        if len(self.pending) >= MAX_PENDING:
            logger.warning("dropped %s to %s: %d sends waiting", event.get("type"), group,
                           len(self.pending))  # fmt: skip
            return
        self.pending.append((layer, group, event))
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self.pending:
            await _send_guarded(*self.pending.popleft())


_senders: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_senders_lock = threading.Lock()


_serving = threading.local()


@contextlib.contextmanager
def sends_handed_to(loop: asyncio.AbstractEventLoop):
    """Within this block, this thread's publishes go to ``loop`` (a websocket consumer's
    own database threads, which asgiref does not know about)."""
    previous = getattr(_serving, "loop", None)
    _serving.loop = loop
    try:
        yield
    finally:
        _serving.loop = previous


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """The ASGI server's event loop when called from one of its request threads (Django
    runs sync views through asgiref, which records the loop it serves; a consumer's own
    threads say so with :func:`sends_handed_to`): None in workers, scripts and the test
    client."""
    loop = getattr(_serving, "loop", None)
    if loop is None:
        if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
            return None
        loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is None or loop.is_closed() or not loop.is_running():
        return None
    try:
        if asyncio.get_running_loop() is loop:
            return None  # on the loop itself: cannot hand over to ourselves synchronously
    except RuntimeError:
        pass
    return loop


def _sender_for(loop: asyncio.AbstractEventLoop) -> _LoopSender:
    with _senders_lock:
        sender = _senders.get(loop)
        if sender is None:
            sender = _senders[loop] = _LoopSender()
        return sender


def publish(group: str, event: dict) -> None:
    """Send ``event`` to ``group``. Failures are logged, never raised: the database already
    holds the truth, and a connection that missed the event re-reads it (``resync``
    frame, reconnect).

    In a web process's request thread the send is handed to the server's event loop and
    this returns at once (the response never waits on Redis); elsewhere (workers,
    scripts) it is sent now, within ``REDIS_COMMAND_TIMEOUT_SECONDS``."""
    layer = get_channel_layer()
    if layer is None or _breaker.is_open:
        return
    loop = _server_loop()
    if loop is not None:
        _sender_for(loop).submit(loop, layer, group, event)
        return
    try:
        async_to_sync(_group_send)(layer, group, event)
        _breaker.succeeded()
    except Exception:  # transport down or slow: readers catch up from the database
        _failed(group, event)


async def _group_send_all(layer, sends: list[tuple[str, dict]]) -> None:
    """Every send on one event loop, so on one pooled Redis connection, in order."""
    for group, event in sends:
        await _send_guarded(layer, group, event)


def publish_many(sends: list[tuple[str, dict]]) -> None:
    """Send each ``(group, event)`` in order, like :func:`publish` each, but from a worker
    or script over one Redis connection (one ``async_to_sync`` call: ``publish`` opens a
    connection per call, ~3 ms each). In a web process each goes to the server's loop."""
    layer = get_channel_layer()
    if layer is None or _breaker.is_open or not sends:
        return
    loop = _server_loop()
    if loop is not None:
        sender = _sender_for(loop)
        for group, event in sends:
            sender.submit(loop, layer, group, event)
        return
    try:
        async_to_sync(_group_send_all)(layer, sends)
    except Exception:  # the loop itself failed: as if every send had
        _failed(sends[0][0], sends[0][1])


#: Blocking hand-offs to the broker (``run_after_response``) waiting for the one thread
#: that runs them; beyond this many, one is dropped (its owner's sweep sends it later).
MAX_PENDING_CALLS = 1000
_calls = None
_calls_pending = 0
_calls_lock = threading.Lock()


def run_after_response(call, *, what: str) -> None:
    """Run ``call()`` (a Celery enqueue after commit, say) where no response waits for it.

    In a web process (a request thread, or a websocket consumer's database thread) it is
    handed to one background thread and this returns at once: a broker that hangs costs
    that thread its timeouts, never a request. Elsewhere (workers, beat, scripts, the
    test client) it runs now. ``call`` must not raise for a transport failure and must be
    safe to lose: whatever it sends is also found by a sweep (the deadline engine's sweep,
    the import reaper). ``what`` names it in the log if it is dropped.
    """
    global _calls, _calls_pending
    if _server_loop() is None:
        call()
        return
    with _calls_lock:
        if _calls_pending >= MAX_PENDING_CALLS:
            logger.warning("dropped %s: %d hand-offs waiting; its sweep sends it", what,
                           _calls_pending)  # fmt: skip
            return
        if _calls is None:
            _calls = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="after-response"
            )
        _calls_pending += 1

    # The request's context (its log fields: request id, crisis) goes along, so the task
    # it enqueues still carries them (core.logs).
    context = contextvars.copy_context()

    def run():
        global _calls_pending
        try:
            close_old_connections()  # like a request: a dead or aged connection is replaced
            context.run(call)
        except Exception:
            logger.warning("%s failed after the response; its sweep sends it", what,
                           exc_info=True)  # fmt: skip
        finally:
            with _calls_lock:
                _calls_pending -= 1
            with contextlib.suppress(Exception):
                close_old_connections()

    _calls.submit(run)


def _checked(event: dict) -> dict:
    """``event`` as a consumer will read it: it must be JSON (cheap to check here rather
    than fail in a consumer); with ``EVENTS_CHECK_JSON`` the round-tripped copy."""
    if getattr(settings, "EVENTS_CHECK_JSON", False):
        return json.loads(json.dumps(event))
    json.dumps(event)
    return event


def publish_on_commit(groups: list[str] | str, event: dict) -> None:
    """Queue ``event`` for ``groups`` once the surrounding transaction commits."""
    if isinstance(groups, str):
        groups = [groups]
    event = _checked(event)

    def send():
        for group in groups:
            publish(group, event)

    transaction.on_commit(send, robust=True)


def publish_many_on_commit(items: list[tuple[list[str] | str, dict]]) -> None:
    """Queue several ``(groups, event)`` for after commit, sent together by
    :func:`publish_many` (one connection for a batch of firings), in the given order."""
    sends: list[tuple[str, dict]] = []
    for groups, event in items:
        if isinstance(groups, str):
            groups = [groups]
        event = _checked(event)
        sends.extend((group, event) for group in groups)
    if sends:
        transaction.on_commit(lambda: publish_many(sends), robust=True)
