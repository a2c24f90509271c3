"""Streaming a long response (an export) from synchronous code, flat in memory.

Under ASGI, Django hands a ``StreamingHttpResponse`` built on a *synchronous* iterator to
``sync_to_async(list)``: the whole body is built in memory before the first byte leaves
(with a warning). :func:`stream` wraps a synchronous iterator of text chunks as an
asynchronous one that takes one chunk at a time on Django's thread for synchronous code
(``thread_sensitive``: the same thread and so the same database connection and server-side
cursor throughout), so a 100,000-row export holds one chunk at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator

from asgiref.sync import sync_to_async

_DONE = object()


def _next(iterator: Iterator):
    return next(iterator, _DONE)


async def stream(chunks: Iterable[str]) -> AsyncIterator[str]:
    """Yield ``chunks`` one at a time, each produced on the synchronous thread."""
    iterator = iter(chunks)
    while True:
        chunk = await sync_to_async(_next, thread_sensitive=True)(iterator)
        if chunk is _DONE:
            return
        yield chunk
