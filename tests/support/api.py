"""Assertions on API responses shared by every test package."""

from __future__ import annotations

from asgiref.sync import async_to_sync


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is an error in the one shape (``code``, ``message``, ``details``),
    as JSON, with this status (and this code, if given); returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"code", "message", "details"}
    assert body["message"]
    if code:
        assert body["code"] == code, body
    return body


def body(response) -> bytes:
    """A response's whole body, streamed (an export: an asynchronous stream) or not."""
    if not getattr(response, "streaming", False):
        return response.content
    if not response.is_async:
        return b"".join(response.streaming_content)

    async def collect() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    return async_to_sync(collect)()
