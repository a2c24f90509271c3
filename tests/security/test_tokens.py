"""API tokens (finding 9): hashed at rest, expiring, rotated and revoked through the API;
websocket tickets are single-use and short-lived."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tests.support.api import assert_error

pytestmark = pytest.mark.django_db

BODY = {"username": "op-a", "password": "pw-for-tests"}


def obtain(api_client) -> dict:
    response = api_client.post("/api/v1/auth/token/", BODY, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def me_status(api_client, key: str) -> int:
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    try:
        return api_client.get("/api/v1/me/").status_code
    finally:
        api_client.credentials()


def test_the_key_is_not_stored_anywhere_in_the_token_tables(region, api_client):
    key = obtain(api_client)["token"]
    tables = [t for t in connection.introspection.table_names() if "token" in t]
    assert tables
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')  # nosec B608 (table names from the catalogue)
            for row in cursor.fetchall():
                assert not any(key in str(cell) for cell in row), table


def test_a_token_expires_after_the_configured_time(region, api_client):
    before = timezone.now()
    body = obtain(api_client)
    expires_at = parse_datetime(body["expires_at"])
    ttl = settings.REST_KNOX["TOKEN_TTL"]
    assert before + ttl - timedelta(minutes=1) <= expires_at <= timezone.now() + ttl
    assert me_status(api_client, body["token"]) == 200

    from knox.models import AuthToken

    AuthToken.objects.filter(user=region.operator_a).update(expiry=timezone.now())
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert_error(api_client.get("/api/v1/me/"), 401, "authentication_failed")


def test_the_lifetime_comes_from_the_settings(region, api_client, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(minutes=5)}
    expires_at = parse_datetime(obtain(api_client)["expires_at"])
    assert expires_at <= timezone.now() + timedelta(minutes=5)


def test_refresh_gives_a_new_token_and_the_old_one_stops(region, api_client):
    old = obtain(api_client)["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    response = api_client.post("/api/v1/auth/token/refresh/")
    assert response.status_code == 200, response.content
    new = response.json()["token"]
    assert new != old and response.json()["expires_at"]
    assert me_status(api_client, new) == 200
    assert me_status(api_client, old) == 401


def test_logout_revokes_only_that_token(region, api_client):
    first, second = obtain(api_client)["token"], obtain(api_client)["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert api_client.post("/api/v1/auth/logout/").json() == {"revoked": 1}
    assert me_status(api_client, first) == 401
    assert me_status(api_client, second) == 200


def test_logout_all_revokes_every_token_of_the_person(region, api_client):
    keys = [obtain(api_client)["token"] for _ in range(3)]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {keys[0]}")
    assert api_client.post("/api/v1/auth/logout-all/").json() == {"revoked": 3}
    assert [me_status(api_client, k) for k in keys] == [401, 401, 401]


def test_refresh_without_a_token_is_401_in_the_error_shape(region, api_client):
    api_client.force_login(region.operator_a)  # a browser session cannot rotate a token
    assert_error(api_client.post("/api/v1/auth/token/refresh/"), 401, "not_authenticated")


@pytest.mark.parametrize(
    "header",
    [b"Token \xff\xfe", b"Token " + b"a" * 5000, b"Token", b"Token a b"],
    ids=["not-utf8", "very-long", "no-key", "spaces"],
)
def test_malformed_authorization_headers_are_401_never_500(region, api_client, header):
    api_client.credentials(HTTP_AUTHORIZATION=header.decode("latin-1"))
    assert_error(api_client.get("/api/v1/me/"), 401, "authentication_failed")


def test_a_websocket_ticket_is_short_lived_and_stored_hashed(region, api_client):
    key = obtain(api_client)["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api_client.post("/api/v1/auth/ws-ticket/")
    assert response.status_code == 200, response.content
    ticket = response.json()["ticket"]
    assert response.json()["expires_in_seconds"] == settings.WS_TICKET_TTL_SECONDS == 30
    from core import ws_auth

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        assert client.get(ws_auth.TICKET_PREFIX + ticket) is None  # never the ticket itself
        assert 0 < client.ttl(ws_auth._ticket_key(ticket)) <= 30
    finally:
        client.close()


def test_a_websocket_ticket_needs_authentication(region, api_client):
    assert_error(api_client.post("/api/v1/auth/ws-ticket/"), 401, "not_authenticated")


def test_expired_tokens_are_purged_after_the_retention_days(region, settings):
    from knox.models import AuthToken

    from core import retention

    settings.RETENTION_EXPIRED_TOKEN_DAYS = 7
    old, _ = AuthToken.objects.create(user=region.operator_a)
    recent, _ = AuthToken.objects.create(user=region.operator_a)
    live, _ = AuthToken.objects.create(user=region.operator_a)
    AuthToken.objects.filter(digest=old.digest).update(expiry=timezone.now() - timedelta(days=8))
    AuthToken.objects.filter(digest=recent.digest).update(expiry=timezone.now() - timedelta(days=1))
    runs = {r.name: r for r in retention.run_retention()}
    assert runs["directory.expired_api_tokens"].purged == 1
    left = set(AuthToken.objects.values_list("digest", flat=True))
    assert left == {recent.digest, live.digest}
