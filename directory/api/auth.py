"""API tokens for desks' systems, and websocket tickets for clients without headers.

- ``POST /api/v1/auth/token/``: username, password (and ``otp``) → a new token and when
  it expires. The key is shown only here: the database keeps its hash.
- ``POST /api/v1/auth/token/refresh/``: with a token → a new one; the old one is revoked.
- ``POST /api/v1/auth/logout/``: revoke the token this request used.
- ``POST /api/v1/auth/logout-all/``: revoke every token of the person.
- ``POST /api/v1/auth/ws-ticket/``: a single-use websocket ticket (``/ws/v1/?ticket=``).
"""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from core import logins
from directory import services
from directory.authentication import ApiTokenAuthentication


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "directory.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Token"
        )


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    otp = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text=(
            "For accounts with two-step login (required for staff and coordinators): the "
            "6-digit code from the authenticator app, or an unused recovery code."
        ),
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the token stops working (UTC)."
    )


class TicketResponseSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="Connect with `/ws/v1/?ticket=<ticket>`, once.")
    expires_in_seconds = serializers.IntegerField()


class RevokedResponseSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(help_text="How many tokens were revoked.")


def _token_body(token, key: str) -> dict:
    return TokenResponseSerializer({"token": key, "expires_at": token.expiry}).data


class LoginThrottle(AnonRateThrottle):
    """A flood brake per web process; the lockout (``core.logins``) is the limit.

    Keyed on the same client address as the lockout, never on a header anyone can send.
    """

    rate = "30/min"

    def get_ident(self, request):
        return logins.client_ip(request._request) or "unknown"


class ObtainTokenView(APIView):
    """Exchange a username and password for a new API token (``Authorization: Token <key>``).

    Each call issues a new token, valid until ``expires_at`` (``API_TOKEN_TTL_HOURS``).
    Accounts with two-step login also send ``otp``. After too many failures on an account,
    or from an address, the answer is 429 ``locked_out`` for a while.
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer},
        examples=[
            OpenApiExample(
                "Demo operator",
                value={"username": "tha-operator", "password": "demo"},  # nosec B105  # an OpenAPI example: the demo password
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = services.issue_token(request=request, **data.validated_data)
        return Response(_token_body(token, key))


class RefreshTokenView(APIView):
    """Swap the token this request uses for a new one with a fresh expiry.

    The old token stops working at once (and websockets opened with it close).
    """

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: TokenResponseSerializer})
    def post(self, request):
        token, key = services.rotate_token(token=request.auth)
        return Response(_token_body(token, key))


class LogoutView(APIView):
    """Revoke the token this request uses."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: RevokedResponseSerializer})
    def post(self, request):
        services.revoke_token(token=request.auth)
        return Response({"revoked": 1})


class LogoutAllView(APIView):
    """Revoke every API token of the person (all their systems must log in again)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: RevokedResponseSerializer})
    def post(self, request):
        return Response({"revoked": services.revoke_all_tokens(user=request.user)})


class WebsocketTicketView(APIView):
    """A single-use ticket to open one websocket, for clients that cannot set headers.

    Valid ``WS_TICKET_TTL_SECONDS`` (30 s). The connection follows the credential this
    request used: it closes when that token or browser session is revoked.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: TicketResponseSerializer})
    def post(self, request):
        token = (
            request.auth
            if isinstance(request.successful_authenticator, ApiTokenAuthentication)
            else None
        )
        ticket = services.issue_ws_ticket(
            user=request.user, token=token, session_key=request.session.session_key
        )
        return Response({"ticket": ticket, "expires_in_seconds": settings.WS_TICKET_TTL_SECONDS})
