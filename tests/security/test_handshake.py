"""The websocket handshake (findings 9 and 14), on a real uvicorn process with a real
websocket client: refusals are a close code with a reason (4401, 4403), never a bare
HTTP 403; tokens are refused in the URL; single-use tickets; two-step login holds on the
websocket too."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY

from directory.models import Role
from tests.factories import make_desk, make_person
from tests.security.test_mfa import set_up_app
from tests.support.asgi import AsgiServer, database_url

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10


@pytest.fixture(scope="module")
def server(django_db_setup):
    # After the test database exists (its name is in the settings then). Two-step login
    # is required on the server (the default), as in production.
    proc = AsgiServer(
        database_url=database_url(settings.DATABASES["default"]),
        redis_url=settings.REDIS_URL,
        env={"MFA_REQUIRED": "true"},
    )
    try:
        proc.start().wait_ready()
        yield proc
    finally:
        proc.stop()


@pytest.fixture(autouse=True)
def _server_idle(server):
    """The server is shared by the module: before the test database is flushed, let it
    finish what a closed connection leaves it doing (presence rows), or they deadlock."""
    yield
    from django.db import connection

    deadline = time.monotonic() + TIMEOUT
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM hotline_presencesession)"
                " + (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                "    AND pid <> pg_backend_pid() AND state <> 'idle')"
            )
            busy = cursor.fetchone()[0]
        quiet = quiet + 1 if busy == 0 else 0
        time.sleep(0.05)


async def closed_with(server, path="", **kwargs) -> tuple[int, str]:
    """Connect to ``/ws/v1/<path>``; the close code and reason the server ends it with."""
    async with websockets.connect(server.ws_url + path, open_timeout=TIMEOUT, **kwargs) as ws:
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
        return ws.close_code, ws.close_reason


async def hello(server, path="", **kwargs):
    ws = await websockets.connect(server.ws_url + path, open_timeout=TIMEOUT, **kwargs)
    frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    assert frame["type"] == "hello", frame
    return ws


def post(server, path: str, *, token: str | None = None, body: dict | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}",
        method="POST",
        headers=headers,
        data=json.dumps(body or {}).encode(),
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return json.loads(response.read())


def _hash_for_the_server(user) -> None:
    # The suite hashes with MD5 for speed; the server knows only the real hashers.
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode("pw-for-tests", hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])


async def log_in(server, user) -> str:
    """An API token of ``user``, from the server's token endpoint."""
    await database_sync_to_async(_hash_for_the_server)(user)
    body = {"username": user.username, "password": "pw-for-tests"}
    return (await asyncio.to_thread(post, server, "/api/v1/auth/token/", body=body))["token"]


def session_cookie(user, *, passed_code: bool) -> str:
    """A logged-in browser session of ``user`` (in the database the server reads)."""
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    if passed_code:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


# --- refusals are readable ------------------------------------------------------------------
async def test_no_credentials_closes_with_4401_and_a_reason(server, region):
    code, reason = await closed_with(server)
    assert code == 4401 and "Not authenticated" in reason


async def test_a_bad_token_closes_with_4401(server, region):
    code, reason = await closed_with(
        server, additional_headers={"Authorization": "Token not-a-real-token"}
    )
    assert code == 4401 and "token" in reason


async def test_an_expired_token_closes_with_4401(server, region):
    key = await log_in(server, region.operator_a)
    from knox.models import AuthToken

    await database_sync_to_async(
        lambda: AuthToken.objects.filter(user=region.operator_a).update(expiry="2000-01-01T00:00Z")
    )()
    code, _ = await closed_with(server, additional_headers={"Authorization": f"Token {key}"})
    assert code == 4401


async def test_a_foreign_origin_closes_with_4403(server, region):
    key = await log_in(server, region.operator_a)
    code, reason = await closed_with(
        server,
        origin="https://evil.example.com",
        additional_headers={"Authorization": f"Token {key}"},
    )
    assert code == 4403 and "Origin" in reason


async def test_own_origin_is_welcome(server, region):
    key = await log_in(server, region.operator_a)
    ws = await hello(
        server, origin="http://localhost", additional_headers={"Authorization": f"Token {key}"}
    )
    await ws.close()


# --- no token in the URL; tickets instead ---------------------------------------------------
async def test_a_token_in_the_query_string_is_refused(server, region):
    key = await log_in(server, region.operator_a)
    code, reason = await closed_with(server, f"?token={key}")
    assert code == 4401 and "URL" in reason


async def test_a_ticket_opens_one_connection_only(server, region):
    key = await log_in(server, region.operator_a)
    ticket = (await asyncio.to_thread(post, server, "/api/v1/auth/ws-ticket/", token=key))["ticket"]
    ws = await hello(server, f"?ticket={ticket}")
    code, reason = await closed_with(server, f"?ticket={ticket}")  # used
    assert code == 4401 and "ticket" in reason
    code, _ = await closed_with(server, "?ticket=made-up")
    assert code == 4401
    await ws.close()


async def test_a_ticket_connection_follows_its_token(server, region):
    """Revoking the token a ticket was issued with closes the socket the ticket opened."""
    key = await log_in(server, region.operator_b)
    ticket = (await asyncio.to_thread(post, server, "/api/v1/auth/ws-ticket/", token=key))["ticket"]
    ws = await hello(server, f"?ticket={ticket}")
    assert (await asyncio.to_thread(post, server, "/api/v1/auth/logout/", token=key)) == {
        "revoked": 1
    }
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert ws.close_code == 4403


# --- two-step login -------------------------------------------------------------------------
@pytest.fixture
def coordinator(region):
    user = make_person(make_desk(None, code="RCC-MFA"), Role.COORDINATOR, username="coord-mfa")
    set_up_app(user)
    return user


async def test_a_session_that_skipped_the_code_step_is_refused(server, coordinator):
    cookie = await database_sync_to_async(session_cookie)(coordinator, passed_code=False)
    code, reason = await closed_with(server, additional_headers={"Cookie": cookie})
    assert code == 4401 and "two-step" in reason


async def test_a_session_that_passed_the_code_step_connects(server, coordinator):
    cookie = await database_sync_to_async(session_cookie)(coordinator, passed_code=True)
    ws = await hello(server, additional_headers={"Cookie": cookie})
    await ws.close()
