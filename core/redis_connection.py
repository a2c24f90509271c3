"""A client of the deployment's Redis, however it is reached: ``REDIS_URL`` (with its
password, if any) or the master the sentinels of ``REDIS_SENTINELS`` name.

Everything of ours that talks to Redis directly (hotline fan-out, websocket tickets,
probes) asks here, so a password or a Sentinel set-up applies everywhere at once; the
channel layer and the Celery broker get the same from ``config/settings.py``. Through
Sentinel, a client asks the sentinels where the master is when it connects, so after a
failover the next connection reaches the new master.
"""

from __future__ import annotations

import asyncio
import threading
import weakref

import redis
import redis.asyncio
import redis.asyncio.sentinel
import redis.sentinel
from django.conf import settings

_lock = threading.Lock()
_sync_sentinels: dict[tuple, redis.sentinel.Sentinel] = {}
_async_sentinels: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict] = (
    weakref.WeakKeyDictionary()
)


def _sentinel_key() -> tuple:
    return (
        tuple(tuple(s) for s in settings.REDIS_SENTINELS),
        tuple(sorted(settings.REDIS_SENTINEL_OPTIONS.items())),
    )


def _socket_options(options: dict) -> tuple:
    """The caller's plain socket options (timeouts, keepalive): the sentinels get them too."""
    return tuple(
        sorted(
            (k, v)
            for k, v in options.items()
            if k.startswith("socket_") and isinstance(v, int | float | bool | None)
        )
    )


def _sentinel_kwargs(socket_options: tuple) -> dict:
    """The sentinels' own password, and the caller's socket options for them too."""
    return {**dict(socket_options), **settings.REDIS_SENTINEL_OPTIONS}


def redis_client(*, asynchronous: bool = False, **options):
    """A ``redis.Redis`` (``redis.asyncio.Redis`` if ``asynchronous``) for our Redis.

    ``options`` are client options (``socket_timeout``, ``socket_connect_timeout``, …).
    The caller closes the client as before (``close()`` / ``aclose()``); the Sentinel
    manager behind it is kept, one per process (and per event loop for asyncio).
    """
    if not settings.REDIS_SENTINELS:
        cls = redis.asyncio.Redis if asynchronous else redis.Redis
        return cls.from_url(settings.REDIS_URL, **options)
    # One Sentinel manager per configuration (and socket options), however many clients:
    # other options (a Retry object, say) go to the master's client only.
    socket_options = _socket_options(options)
    key = (_sentinel_key(), socket_options)
    if asynchronous:
        per_loop = _async_sentinels.setdefault(asyncio.get_running_loop(), {})
        sentinel = per_loop.get(key)
        if sentinel is None:
            sentinel = per_loop[key] = redis.asyncio.sentinel.Sentinel(
                settings.REDIS_SENTINELS, sentinel_kwargs=_sentinel_kwargs(socket_options)
            )
        cls = redis.asyncio.Redis
    else:
        with _lock:
            sentinel = _sync_sentinels.get(key)
            if sentinel is None:
                sentinel = _sync_sentinels[key] = redis.sentinel.Sentinel(
                    settings.REDIS_SENTINELS, sentinel_kwargs=_sentinel_kwargs(socket_options)
                )
        cls = redis.Redis
    return sentinel.master_for(
        settings.REDIS_SENTINEL_MASTER, redis_class=cls, **settings.REDIS_MASTER_OPTIONS, **options
    )
