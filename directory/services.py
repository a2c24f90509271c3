"""Write actions of the member-state directory: API tokens and websocket tickets.

API tokens are django-rest-knox tokens: only a hash (SHA-512) is stored, with an expiry
(``API_TOKEN_TTL_HOURS``); the key is shown once, when it is issued. A person may hold
several (one per system or log-in). Rotation is issuing a new one and revoking the old
(:func:`rotate_token`); a revoked or expired token is refused everywhere at once, and the
websockets opened with it close (``directory.signals``).
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils.translation import gettext as _
from knox.models import AuthToken

from core import logins, mfa, ws_auth
from core.errors import DomainError


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"


def issue_token(*, username: str, password: str, otp: str = "", request) -> tuple[AuthToken, str]:
    """A new API token for the person with these credentials: the row and its key.

    The key exists only in the answer (the database keeps its hash). Limited like every
    log-in (``core.logins``): a locked-out account or address gets
    :class:`~core.logins.LockedOut` (429) whatever the password. Whoever owes a two-step
    code (``core.mfa.owes_code``) must send it as ``otp``; a wrong one counts as a failed
    log-in.
    """
    # DRF wraps the HttpRequest; django-axes marks the one the middleware sees.
    http_request = getattr(request, "_request", request)
    user = authenticate(request=http_request, username=username, password=password)
    if user is None or not user.is_active:
        if getattr(http_request, "axes_locked_out", False):
            raise logins.locked_out_error()
        raise InvalidCredentials(_("Wrong username or password."))
    if mfa.owes_code(user):
        try:
            mfa.require_code(user, otp)
        except mfa.WrongCode:
            if logins.record_failure(http_request, username):
                raise logins.locked_out_error() from None
            raise
    logins.forget_failures(username)
    return AuthToken.objects.create(user=user)


def rotate_token(*, token: AuthToken) -> tuple[AuthToken, str]:
    """Replace ``token`` with a new one (a fresh expiry): the new row and its key.

    Transactional: the old token is revoked in the same transaction that creates the new
    one, so at no point are both missing; sockets opened with the old one close.
    """
    with transaction.atomic():
        AuthToken.objects.filter(digest=token.digest).delete()
        return AuthToken.objects.create(user=token.user)


def revoke_token(*, token: AuthToken) -> None:
    """Revoke one token (log out that system). Idempotent."""
    AuthToken.objects.filter(digest=token.digest).delete()


def revoke_all_tokens(*, user) -> int:
    """Revoke every API token of ``user`` (e.g. after a theft); returns how many."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


def issue_ws_ticket(*, user, token: AuthToken | None, session_key: str | None) -> str:
    """A single-use websocket ticket for ``user``, bound to what the request used.

    A token-authenticated request binds the ticket to its token, a browser session to
    its session: the socket it opens closes when that token or session is revoked.
    """
    credential = ("token", token.digest) if token is not None else ("session", session_key)
    return ws_auth.issue_ticket(user_id=user.pk, credential=credential)
