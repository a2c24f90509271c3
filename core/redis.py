"""Every Redis connection this project opens is made here, with timeouts.

Redis is transport, never the record: when it is down or unreachable, an action must
still commit and answer in its normal time. So no Redis call may wait longer than a
bounded time, none retries with backoff inside a request (redis-py's default client
retries three times with growing sleeps), and a caller that just failed stops trying for
a few seconds (:class:`Breaker`) instead of paying a connect timeout on every request.

- :func:`sync_client` / :func:`async_client`: clients for commands (publishes, tickets,
  probes). Connect and command timeouts ``REDIS_CONNECT_TIMEOUT_SECONDS`` /
  ``REDIS_COMMAND_TIMEOUT_SECONDS``; TCP keepalive on.
- :func:`channel_layer_host`: the channels_redis host entry (its BRPOP blocks up to 5 s,
  so its read timeout is longer; every group call is also bounded by the caller, see
  ``core.events``).
- :func:`bounded`: an awaitable with a deadline (channels_redis has no timeouts of its
  own).

Where Redis lives (``REDIS_URL``, or the master the sentinels of ``REDIS_SENTINELS``
name) is decided by ``core.redis_connection``; without an explicit address, the clients
here come from it, so the hotline fan-out, websocket tickets and the probes follow a
Sentinel failover. The channel layer gets the same from ``config/settings.py``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable
from typing import TypeVar

import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.redis_connection import redis_client

T = TypeVar("T")

#: Connect and command timeouts unless the settings say otherwise (seconds).
DEFAULT_CONNECT_TIMEOUT = 0.5
DEFAULT_COMMAND_TIMEOUT = 1.0
#: channels_redis blocks in BRPOP for this long (its ``brpop_timeout``): reads on its
#: connections must be allowed longer.
CHANNEL_LAYER_BLOCK_SECONDS = 5


def connect_timeout() -> float:
    return float(getattr(settings, "REDIS_CONNECT_TIMEOUT_SECONDS", DEFAULT_CONNECT_TIMEOUT))


def command_timeout() -> float:
    return float(getattr(settings, "REDIS_COMMAND_TIMEOUT_SECONDS", DEFAULT_COMMAND_TIMEOUT))


def url() -> str:
    return settings.REDIS_URL


def client_options(*, read_timeout: float | None = None) -> dict:
    """Keyword arguments of every client and pool: bounded, no hidden retries."""
    return {
        "socket_connect_timeout": connect_timeout(),
        "socket_timeout": read_timeout if read_timeout is not None else command_timeout(),
        "socket_keepalive": True,
        "retry": Retry(NoBackoff(), 0),
    }


_sync_clients: dict[str, redis.Redis] = {}
_sync_lock = threading.Lock()


def sync_client(address: str | None = None) -> redis.Redis:
    """A shared (thread-safe, pooled) client for ``address`` (default ``REDIS_URL``)."""
    key = address or url()
    client = _sync_clients.get(key)
    if client is None:
        with _sync_lock:
            client = _sync_clients.get(key)
            if client is None:
                client = _sync_clients[key] = (
                    redis.Redis.from_url(address, **client_options())
                    if address
                    else redis_client(**client_options())
                )
    return client


def async_client(address: str | None = None, **overrides) -> aioredis.Redis:
    """A new asyncio client (its owner closes it with ``aclose()``)."""
    options = client_options()
    options["retry"] = AsyncRetry(NoBackoff(), 0)
    options.update(overrides)
    if address:
        return aioredis.Redis.from_url(address, **options)
    return redis_client(asynchronous=True, **options)


def channel_layer_host(address: str, *, connect_seconds: float = DEFAULT_CONNECT_TIMEOUT) -> dict:
    """One ``CHANNEL_LAYERS`` host entry for channels_redis (used by the settings)."""
    return {
        "address": address,
        "socket_connect_timeout": connect_seconds,
        "socket_timeout": CHANNEL_LAYER_BLOCK_SECONDS + 5,
        "socket_keepalive": True,
        # A connection idle this long is PINGed before use: a dead one is replaced
        # instead of failing the next group_send.
        "health_check_interval": 30,
    }


async def bounded(awaitable: Awaitable[T], seconds: float | None = None) -> T:
    """Await ``awaitable`` for at most ``seconds`` (default: the command timeout);
    ``TimeoutError`` beyond."""
    return await asyncio.wait_for(awaitable, seconds if seconds is not None else command_timeout())


_breakers: list[Breaker] = []


def reset() -> None:
    """Forget cached clients and close every breaker (tests that restart Redis)."""
    with _sync_lock:
        for client in _sync_clients.values():
            client.close()
        _sync_clients.clear()
    for breaker in _breakers:
        breaker.succeeded()


class Breaker:
    """After a failure, skip this kind of call for ``seconds``: a Redis that just refused
    (or timed out) is not asked again on every request. Thread-safe enough: a race only
    lets one extra attempt through."""

    def __init__(self, seconds: float = 5.0):
        self.seconds = seconds
        self._open_until = 0.0
        _breakers.append(self)

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def failed(self) -> None:
        self._open_until = time.monotonic() + self.seconds

    def succeeded(self) -> None:
        self._open_until = 0.0
