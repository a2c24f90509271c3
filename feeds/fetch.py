"""Fetching a feed or an alert over HTTP, bounded: a timeout on every step and on the
whole transfer, a size limit counted as the bytes arrive (after decompression), a
conditional GET (ETag / Last-Modified), at most three redirects. Every failure is a
:class:`FetchFailed` whose message says, in words, what went wrong.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from django.conf import settings


class FetchFailed(Exception):
    """The address did not give us a document; ``str(exc)`` says why, in words."""


@dataclass(frozen=True)
class Fetched:
    not_modified: bool
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""


def _size(count: int) -> str:
    return f"{count / 1024:.0f} KiB" if count >= 1024 else f"{count} bytes"


def fetch(
    url: str,
    *,
    max_bytes: int,
    accept: str,
    etag: str = "",
    last_modified: str = "",
    timeout_seconds: float | None = None,
) -> Fetched:
    """GET ``url``; a 304 answer is ``Fetched(not_modified=True)``.

    Raises FetchFailed for: no answer in time (each step, or the whole body, within
    ``timeout_seconds``), no connection, a status other than 200/304, a body larger than
    ``max_bytes``.
    """
    timeout = timeout_seconds if timeout_seconds is not None else settings.CAP_FEED_TIMEOUT_SECONDS
    headers = {"Accept": accept, "User-Agent": f"crisis-hotline CAP poller ({settings.CAP_SENDER})"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    give_up_at = time.monotonic() + timeout
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=3) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304:
                return Fetched(not_modified=True, etag=etag, last_modified=last_modified)
            if response.status_code != 200:
                raise FetchFailed(
                    f"the server answered HTTP {response.status_code} "
                    f"{response.reason_phrase or ''}".strip()
                    + " instead of the document."
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchFailed(
                    f"the document is {_size(int(declared))}, more than the limit of "
                    f"{_size(max_bytes)}."
                )
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FetchFailed(
                        f"the document is larger than the limit of {_size(max_bytes)}; "
                        "stopped reading."
                    )
                if time.monotonic() > give_up_at:
                    raise FetchFailed(f"the document did not arrive within {timeout:g} s.")
            return Fetched(
                not_modified=False,
                body=bytes(body),
                etag=response.headers.get("etag", ""),
                last_modified=response.headers.get("last-modified", ""),
                content_type=response.headers.get("content-type", ""),
            )
    except httpx.TimeoutException as exc:
        raise FetchFailed(f"no answer within {timeout:g} s (timed out).") from exc
    except httpx.TooManyRedirects as exc:
        raise FetchFailed("the address redirects more than three times.") from exc
    except httpx.ConnectError as exc:
        raise FetchFailed(f"could not connect ({exc}).") from exc
    except httpx.InvalidURL as exc:
        raise FetchFailed(f"the address is not a usable URL ({exc}).") from exc
    except httpx.HTTPError as exc:
        raise FetchFailed(f"the transfer failed ({type(exc).__name__}: {exc}).") from exc
