"""Assertions on API responses shared by every test package."""

from __future__ import annotations


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
