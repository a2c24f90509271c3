"""Under ASGI each HTTP request runs on a thread of its own: a connection kept for reuse
would never be reused and open connections would grow with concurrent requests until
PostgreSQL refuses more ("too many clients"). A real uvicorn process, as deployed
(``CONN_MAX_AGE=60``), answers rounds of concurrent requests; the connections it holds
afterwards are counted in PostgreSQL itself."""

import asyncio

import httpx
import pytest
from django.conf import settings
from django.db import connection

from tests.support.asgi import AsgiServer, database_url
from tests.support.redis import PrivateRedis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CONCURRENT, ROUNDS = 20, 3


def server_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_concurrent_requests_leave_no_connection_behind():
    redis_server = PrivateRedis().start()
    server = AsgiServer(
        database_url=database_url(settings.DATABASES["default"]),
        redis_url=redis_server.url,
        env={"CONN_MAX_AGE": "60"},
    )
    try:
        server.start().wait_ready()
        before = server_connections()

        async def rounds():
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
                for _ in range(ROUNDS):
                    answers = await asyncio.gather(
                        *(http.get("/readyz") for _ in range(CONCURRENT))
                    )
                    assert {a.status_code for a in answers} == {200}

        asyncio.run(rounds())
        # Each request closed its connection as it finished (60 requests answered).
        after = server_connections()
        assert after <= before, (before, after)
    finally:
        server.stop()
        redis_server.stop()
