"""Write actions of the member-state directory."""

from __future__ import annotations

from django.contrib.auth import authenticate
from rest_framework.authtoken.models import Token

from core.errors import DomainError


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"


def issue_token(*, username: str, password: str, request=None) -> Token:
    """Return the API token of the person with these credentials (created on first use).

    Idempotent: the same person gets the same token until it is revoked in the admin.
    """
    user = authenticate(request=request, username=username, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials("Wrong username or password.")
    token, _ = Token.objects.get_or_create(user=user)
    return token
