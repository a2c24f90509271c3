"""``Authorization: Token <key>`` for the API: knox's hashed, expiring tokens.

Its own module, importing no views: DRF imports the authentication classes while its
own views module loads.
"""

from knox.auth import TokenAuthentication
from rest_framework import exceptions


class ApiTokenAuthentication(TokenAuthentication):
    """Knox's token authentication; a key that is not even text is refused like any
    wrong key (knox would fail on it with a 500)."""

    def authenticate_credentials(self, token):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return super().authenticate_credentials(token)
