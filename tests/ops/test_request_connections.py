"""Under ASGI each HTTP request runs on a thread of its own: a connection kept per thread
(``CONN_MAX_AGE``) would never be reused, and open connections grew with concurrent
requests until PostgreSQL refused more ("too many clients already"). A web process as
deployed (``DATABASE_POOL=true``) borrows from a pool of its own: a real uvicorn process
answers rounds of more concurrent requests than its pool holds, every one of them, and
PostgreSQL itself counts no more of its connections than the pool's maximum."""

import asyncio

import httpx
import pytest
from django.conf import settings
from django.db import connection

from tests.support.asgi import AsgiServer, database_url
from tests.support.redis import PrivateRedis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CONCURRENT, ROUNDS, POOL_MAX = 20, 3, 4


def server_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_concurrent_requests_share_the_pool_and_never_pass_its_size():
    redis_server = PrivateRedis().start()
    server = AsgiServer(
        database_url=database_url(settings.DATABASES["default"]),
        redis_url=redis_server.url,
        env={"DATABASE_POOL": "true", "DATABASE_POOL_MAX_SIZE": str(POOL_MAX)},
    )
    try:
        server.start().wait_ready()
        seen = []

        async def one_round():
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{server.port}", timeout=30
            ) as http:
                answers = await asyncio.gather(*(http.get("/readyz") for _ in range(CONCURRENT)))
            assert {a.status_code for a in answers} == {200}

        for _ in range(ROUNDS):
            asyncio.run(one_round())
            seen.append(server_connections())
        # 60 requests, 20 at a time, answered on at most POOL_MAX connections, kept open
        # for the next requests (not opened per request, not left behind per thread).
        assert 0 < max(seen) <= POOL_MAX, seen
    finally:
        server.stop()
        redis_server.stop()
