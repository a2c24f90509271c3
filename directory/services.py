"""Write actions of the member-state directory."""

from __future__ import annotations

from django.contrib.auth import authenticate
from rest_framework.authtoken.models import Token

from core.console import logins, mfa
from core.errors import DomainError


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"


def issue_token(*, username: str, password: str, otp: str = "", request) -> Token:
    """Return the API token of the person with these credentials (created on first use).

    Idempotent: the same person gets the same token until it is revoked in the admin.
    Limited like every log-in (``core.console.logins``): a locked-out account or address
    gets :class:`~core.console.logins.LockedOut` (429) whatever the password. Whoever
    owes a two-step code (``core.console.mfa.owes_code``) must send it as ``otp``; a wrong
    one counts as a failed log-in.
    """
    # DRF wraps the HttpRequest; django-axes marks the one the middleware sees.
    http_request = getattr(request, "_request", request)
    user = authenticate(request=http_request, username=username, password=password)
    if user is None or not user.is_active:
        if getattr(http_request, "axes_locked_out", False):
            raise logins.locked_out_error()
        raise InvalidCredentials("Wrong username or password.")
    if mfa.owes_code(user):
        try:
            mfa.require_code(user, otp)
        except mfa.WrongCode:
            if logins.record_failure(http_request, username):
                raise logins.locked_out_error() from None
            raise
    logins.forget_failures(username)
    token, _ = Token.objects.get_or_create(user=user)
    return token
