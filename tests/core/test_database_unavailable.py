"""A database that is away is a 503 ``database_unavailable`` with ``Retry-After`` (REST,
pages, websocket frames), never a 500: nothing was done and the request may be sent again.
The whole path under a real PostgreSQL restart is the chaos suite's
(tests/chaos/test_faults.py::test_restart_postgresql)."""

from __future__ import annotations

import json
import sys

import psycopg
import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from core.errors import (
    DATABASE_RETRY_AFTER_SECONDS,
    api_exception_handler,
    error_frame,
    json_server_error_or_default,
)
from core.middleware import DatabaseUnavailableMiddleware
from tests.support.redis import free_port


def refused() -> OperationalError:
    """A real refusal: connecting where no PostgreSQL listens, as Django reports it."""
    try:
        psycopg.connect(host="127.0.0.1", port=free_port(), connect_timeout=2, user="x")
    except psycopg.OperationalError as exc:
        return OperationalError(*exc.args)
    raise AssertionError("something answered on a free port")


def assert_503(response, body: dict) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert body["code"] == "database_unavailable" and body["message"]
    assert body["details"] == {"retry_after_seconds": DATABASE_RETRY_AFTER_SECONDS}


@pytest.mark.parametrize("exc", [refused, lambda: InterfaceError("connection already closed")])
def test_the_api_answers_503_with_retry_after(exc):
    response = api_exception_handler(exc(), {})
    assert_503(response, response.data)


def test_pages_and_middleware_answer_503_too():
    request = RequestFactory().get("/crises/")
    response = DatabaseUnavailableMiddleware(lambda r: None).process_exception(request, refused())
    assert_503(response, json.loads(response.content))
    assert (
        DatabaseUnavailableMiddleware(lambda r: None).process_exception(
            request, ValueError("a bug")
        )
        is None
    )
    try:
        raise refused()
    except OperationalError:
        assert sys.exc_info()[1] is not None
        page = json_server_error_or_default(RequestFactory().get("/api/v1/crises/"))
    assert_503(page, json.loads(page.content))


def test_a_websocket_action_gets_a_retryable_frame():
    frame = error_frame(refused(), ref="c-1")
    assert frame["type"] == "error" and frame["code"] == "database_unavailable"
    assert frame["ref"] == "c-1"
    assert error_frame(ValueError("a bug"))["code"] == "server_error"
