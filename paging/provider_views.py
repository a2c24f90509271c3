"""The SMS/voice provider's posts to us, in its own protocol (Twilio's): form-encoded,
signed with ``X-Twilio-Signature``, answered with TwiML. No session: the signature is the
authentication, and a request without a valid one is refused (403) before anything is
read. Not part of our API schema (they are the provider's callbacks, not a client API).

- ``POST /api/v1/paging/sms/inbound/`` — a text to our number: a reply code acknowledges
  that page for that person (``paging.services.acknowledge_by_reply``); the answer is a
  text back saying what happened.
- ``POST /api/v1/paging/sms/status/`` — a delivery receipt for a message or call we sent
  (``paging.services.record_provider_status``).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from core.errors import DomainError, InvalidInput, PermissionDenied
from paging import services
from paging.transports.phone import PROVIDER


class ProviderView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser]

    def check_signature(self, request) -> dict[str, list[str]]:
        """The form, once its signature checks out against the URL the provider posted to
        (our public base URL, or the URL as this server saw it)."""
        signature = request.headers.get("X-Twilio-Signature", "")
        params = {key: list(values) for key, values in request.data.lists()}
        candidates = {
            settings.PAGING_BASE_URL.rstrip("/") + request.get_full_path(),
            request.build_absolute_uri(),
        }
        if not any(
            PROVIDER.signature_valid(url=url, params=params, signature=signature)
            for url in candidates
        ):
            raise PermissionDenied(
                "This request is not signed by our SMS provider.", code="bad_signature"
            )
        return params


def _field(params: dict[str, list[str]], name: str, *, required: bool = True) -> str:
    value = (params.get(name) or [""])[0]
    if required and not value:
        raise InvalidInput(f"{name} is missing.", code="invalid", details={"field": name})
    return value[:2000]


def _twiml_message(text: str) -> HttpResponse:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Message>{escape(text)}</Message></Response>"
    )
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


@extend_schema(exclude=True)
class InboundSmsView(ProviderView):
    def post(self, request):
        params = self.check_signature(request)
        from_number = _field(params, "From")
        text = _field(params, "Body", required=False)
        try:
            page = services.acknowledge_by_reply(from_number=from_number, body=text)
        except DomainError as exc:
            return _twiml_message(f"Not acknowledged: {exc.message}")
        who = page.acknowledged_by.get_username() if page.acknowledged_by else ""
        return _twiml_message(
            f"Acknowledged: {page.title} (desk {page.desk.code}, as {who}). "
            "Nobody else is paged for it."
        )


@extend_schema(exclude=True)
class ProviderStatusView(ProviderView):
    def post(self, request):
        params = self.check_signature(request)
        sid = _field(params, "MessageSid", required=False) or _field(params, "CallSid")
        status = _field(params, "MessageStatus", required=False) or _field(params, "CallStatus")
        services.record_provider_status(
            provider_id=sid, status=status, error_code=_field(params, "ErrorCode", required=False)
        )
        return HttpResponse(status=204)
