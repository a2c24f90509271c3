"""Who a websocket is, decided at the handshake, and refusals a client can read.

Three ways in, one of which must succeed:

- ``Authorization: Token <key>``: an API token (django-rest-knox: hashed at rest, with an
  expiry), for desks' systems;
- the browser's session cookie (Channels' ``AuthMiddlewareStack``). When the person must
  use two-step login (``core.mfa.must_use_mfa``), the session must have passed the code
  step, as on every HTTP request (``core.mfa.RequireMFAMiddleware``);
- ``?ticket=<ticket>``: for clients that cannot set headers, a single-use ticket from
  ``POST /api/v1/auth/ws-ticket/``, valid ``WS_TICKET_TTL_SECONDS`` (30 s). It is stored
  hashed in Redis and taken with ``GETDEL``, so it opens one connection, in any process.

An API token in the URL (``?token=``) is refused: URLs end up in access logs and proxies'
logs, where a long-lived credential must never be.

A refused handshake is accepted and then closed with a close code and a reason, so a
client sees *why* (a bare HTTP 403 says nothing): 4401 without valid credentials, 4403
for a browser page of another site (``Origin`` not one of ``ALLOWED_HOSTS``).

The connection keeps what it authenticated with in ``scope["credential"]``:
``("token", <digest>)`` or ``("session", <session key>)``; the hotline consumer closes it
when that credential is revoked or expires.

The connection speaks the person's language, decided once at the handshake as for a page
(``core.i18n``): their own choice, else the language cookie, else ``Accept-Language``;
error frames (``core.errors.error_frame``) carry messages in it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from urllib.parse import parse_qs, urlparse

import redis
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from core import i18n, mfa
from core import redis as core_redis
from core.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403

TICKET_PREFIX = "ws-ticket:"

#: Close reasons (at most 123 bytes each, the websocket limit).
REASONS = {
    "not_authenticated": "Not authenticated: session cookie, Authorization: Token <key>, "
    "or ?ticket= from POST /api/v1/auth/ws-ticket/.",
    "token_in_url": "API tokens are not accepted in the URL: send Authorization: Token <key>, "
    "or use ?ticket=.",
    "bad_token": "Invalid or expired API token.",
    "bad_ticket": "Invalid, expired or already used ticket.",
    "mfa_required": "This account must use two-step login: log in again with your code.",
    "origin_not_allowed": "Origin not allowed.",
}


# --- refusals ------------------------------------------------------------------------------
def refusal(code: int, why: str):
    """An ASGI app that accepts the handshake, then closes with ``code`` and a reason."""

    async def refuse(scope, receive, send):
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": code, "reason": REASONS[why]})

    return refuse


# --- tickets -------------------------------------------------------------------------------
def _ticket_key(ticket: str) -> str:
    return TICKET_PREFIX + hashlib.sha256(ticket.encode("utf-8", "replace")).hexdigest()


def issue_ticket(*, user_id: int, credential: tuple[str, str]) -> str:
    """A new single-use websocket ticket for ``user_id``, bound to ``credential``.

    Only its hash is stored, in Redis, expiring after ``WS_TICKET_TTL_SECONDS``; the
    connection it opens follows ``credential`` (it closes when that is revoked).
    """
    ticket = secrets.token_urlsafe(32)
    value = json.dumps({"user_id": user_id, "credential": list(credential)})
    try:
        core_redis.sync_client().set(_ticket_key(ticket), value, ex=settings.WS_TICKET_TTL_SECONDS)
    except (redis.RedisError, OSError):
        logger.warning("could not store a websocket ticket", exc_info=True)
        raise ServiceUnavailable(
            _(
                "Websocket tickets are unavailable right now. Connect with your API "
                "token in the Authorization header, or try again in a moment."
            ),
            code="tickets_unavailable",
        ) from None
    return ticket


async def redeem_ticket(ticket: str) -> dict | None:
    """The ticket's ``user_id`` and ``credential``, once; None if unknown, used or expired."""
    client = core_redis.async_client()
    try:
        value = await core_redis.bounded(client.getdel(_ticket_key(ticket)))
    except (redis.RedisError, OSError, TimeoutError):
        logger.warning("could not redeem a websocket ticket", exc_info=True)
        return None  # refused as a bad ticket; the client can use its token instead
    finally:
        await client.aclose()
    return json.loads(value) if value else None


# --- credentials ---------------------------------------------------------------------------
@database_sync_to_async
def _user_for_token(key: str):
    """(user, token digest) for a live API token of an active person, else None."""
    try:
        user, token = TokenAuthentication().authenticate_credentials(key.encode("utf-8"))
    except (AuthenticationFailed, UnicodeError, ValueError):
        return None
    return user, token.digest


@database_sync_to_async
def _active_user(user_id: int):
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


@database_sync_to_async
def _owes_code(session, user) -> bool:
    return mfa.must_use_mfa(user) and not mfa.session_passed_code(session, user)


def _header_token(scope) -> str | None:
    """The key of ``Authorization: Token <key>`` ('' if the header is malformed)."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, key = value.decode("latin-1").partition(" ")
            return key.strip() if kind.lower() in ("token", "bearer") else ""
    return None


class WebsocketAuthMiddleware:
    """Resolve the connection's person (see the module docstring) or refuse it.

    Sits inside Channels' ``AuthMiddlewareStack``, so a session user is already in scope.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "token" in query:
            return await refusal(CLOSE_UNAUTHENTICATED, "token_in_url")(scope, receive, send)
        user, credential, why = None, None, "not_authenticated"
        key = _header_token(scope)
        if key is not None:
            found = await _user_for_token(key) if key else None
            if found is None:
                why = "bad_token"
            else:
                user, digest = found
                credential = ("token", digest)
        elif "ticket" in query:
            data = await redeem_ticket(query["ticket"][0])
            user = await _active_user(data["user_id"]) if data else None
            if user is None:
                why = "bad_ticket"
            else:
                credential = tuple(data["credential"])
        else:
            session_user = scope.get("user")
            if session_user is not None and session_user.is_authenticated:
                session = scope["session"]
                if await _owes_code(session, session_user):
                    why = "mfa_required"
                else:
                    user, credential = session_user, ("session", session.session_key)
        if user is None:
            return await refusal(CLOSE_UNAUTHENTICATED, why)(scope, receive, send)
        scope = dict(scope, user=user, credential=credential)
        # The whole connection runs inside this call (and database_sync_to_async copies
        # the context), so every frame's refusal is said in this language.
        with translation.override(await _language_of(scope, user)):
            return await self.app(scope, receive, send)


@database_sync_to_async
def _language_of(scope, user) -> str:
    """The person's own language, else the cookie's, else the best of Accept-Language,
    else the default (as ``LocaleMiddleware`` and ``core.i18n.PersonLanguageMiddleware``)."""
    code = i18n.language_for(user)
    if not code:
        code = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME, "")
    if i18n.supported(code):
        return code
    header = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
    for accepted, _quality in parse_accept_lang_header(header):
        if accepted == "*":
            break
        try:
            return translation.get_supported_language_variant(accepted)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


# --- origin --------------------------------------------------------------------------------
class BrowserOriginValidator(OriginValidator):
    """Refuse cross-site websocket handshakes (4403); let non-browser clients through.

    Browsers always send ``Origin`` on a websocket handshake, so a present Origin must be
    one of ``ALLOWED_HOSTS`` (this is what stops another site riding on an operator's
    session cookie). Desks' systems (no Origin) still have to authenticate, by token.
    """

    def valid_origin(self, parsed_origin):
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)

    async def __call__(self, scope, receive, send):
        # The parent's rules, but a bad origin gets our refusal instead of an HTTP 403.
        parsed_origin = None
        for name, value in scope.get("headers", []):
            if name == b"origin":
                try:
                    parsed_origin = urlparse(value.decode("latin-1"))
                except ValueError:  # e.g. "http://[": no site of ours
                    parsed_origin = urlparse("invalid://")
        if self.valid_origin(parsed_origin):
            return await self.application(scope, receive, send)
        return await refusal(CLOSE_FORBIDDEN, "origin_not_allowed")(scope, receive, send)


def origin_validated(application):
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG:
        allowed += ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed)
