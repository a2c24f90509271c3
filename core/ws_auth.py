"""Token authentication for websockets, beside Channels' session authentication.

Desks' systems connect with ``Authorization: Token <key>`` (or ``?token=<key>`` where a
client cannot set headers). A browser connects with its session cookie.
"""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.authtoken.models import Token


@database_sync_to_async
def _user_for_token(key: str):
    try:
        token = Token.objects.select_related("user").get(key=key)
    except Token.DoesNotExist:
        return None
    return token.user if token.user.is_active else None


def _token_from_scope(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, key = value.decode("latin-1").partition(" ")
            if kind.lower() in ("token", "bearer") and key:
                return key.strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get("token") or [None])[0]


class TokenAuthMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            key = _token_from_scope(scope)
            if key:
                scope = dict(scope, user=(await _user_for_token(key)) or AnonymousUser())
        return await self.app(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """Reject cross-site websocket handshakes; let non-browser clients through.

    Browsers always send ``Origin`` on a websocket handshake, so a present Origin must be
    one of ``ALLOWED_HOSTS`` (this is what stops another site riding on an operator's
    session cookie). Desks' systems (no Origin) still have to authenticate, by token.
    """

    def valid_origin(self, parsed_origin):
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


def origin_validated(application):
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG:
        allowed += ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed)
