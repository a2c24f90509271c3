"""Token authentication for desks' systems."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from core.console import logins
from directory.services import issue_token


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
    token = serializers.CharField()


class LoginThrottle(AnonRateThrottle):
    """A flood brake per web process; the lockout (``core.console.logins``) is the limit.

    Keyed on the same client address as the lockout, never on a header anyone can send.
    """

    rate = "30/min"

    def get_ident(self, request):
        return logins.client_ip(request._request) or "unknown"


class ObtainTokenView(APIView):
    """Exchange a username and password for an API token (``Authorization: Token <key>``).

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
        token = issue_token(request=request, **data.validated_data)
        return Response({"token": token.key})
