"""SMS and voice through one provider adapter: Twilio's REST API (or any service that
speaks it: ``SMS_PROVIDER_URL``).

The adapter (:class:`TwilioProvider`) is the only code that knows the provider's wire
format; the two transports (``sms``, ``voice``) ask it to send a text or place a call:

- ``send_sms(to=, body=, status_callback=, idempotency_key=) -> Receipt``
- ``place_call(to=, twiml=, status_callback=, idempotency_key=) -> Receipt``
- ``signature_valid(url=, params=, signature=) -> bool`` — checks ``X-Twilio-Signature``
  on the provider's posts to us (inbound SMS, delivery receipts).

Twilio's shape: ``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`` (form:
``To``, ``From``, ``Body``, ``StatusCallback``) and ``…/Calls.json`` (``Twiml``), HTTP
basic auth ``AccountSid:AuthToken``, ``201`` with a JSON ``sid``; errors are JSON
``{"code", "message", "status"}``. A 5xx, a 429, a timeout or no connection is worth
retrying (:class:`TransientFailure`); any other 4xx (a number the provider refuses, bad
credentials) is not (:class:`PermanentFailure`: the next method is tried).

The transports are offered only while ``SMS_PROVIDER_ACCOUNT``, ``SMS_PROVIDER_TOKEN``
and ``SMS_PROVIDER_FROM`` are set (``SMS_PROVIDER_URL`` defaults to Twilio's).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from xml.sax.saxutils import escape

import httpx
import phonenumbers
from django.conf import settings

from paging.transports import (
    Message,
    PermanentFailure,
    Receipt,
    TransientFailure,
    register_transport,
)

API_VERSION = "2010-04-01"


def normalise_number(address: str) -> str:
    """``address`` as E.164 (``+66812345678``), or ``ValueError`` saying what is wrong."""
    text = (address or "").strip()
    if not text.startswith("+"):
        raise ValueError(
            f"{text!r} is not an international number: write it in E.164, starting with + "
            "and the country code (e.g. +66812345678)."
        )
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{text!r} is not a valid phone number for its country.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def twilio_signature(token: str, url: str, params: Mapping[str, list[str]]) -> str:
    """Twilio's request signature: base64(HMAC-SHA1(auth token, URL + each form key and
    value, keys sorted))."""
    data = url + "".join(k + v for k in sorted(params) for v in sorted(params[k]))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class TwilioProvider:
    """Twilio's REST API, configured from settings at each use."""

    @staticmethod
    def configured() -> bool:
        return bool(
            settings.SMS_PROVIDER_URL
            and settings.SMS_PROVIDER_ACCOUNT
            and settings.SMS_PROVIDER_TOKEN
            and settings.SMS_PROVIDER_FROM
        )

    def send_sms(
        self, *, to: str, body: str, status_callback: str = "", idempotency_key: str = ""
    ) -> Receipt:
        return self._create(
            "Messages.json", {"To": to, "Body": body}, status_callback, idempotency_key
        )

    def place_call(
        self, *, to: str, twiml: str, status_callback: str = "", idempotency_key: str = ""
    ) -> Receipt:
        return self._create(
            "Calls.json", {"To": to, "Twiml": twiml}, status_callback, idempotency_key
        )

    def signature_valid(self, *, url: str, params: Mapping[str, list[str]], signature: str) -> bool:
        if not (self.configured() and signature):
            return False
        expected = twilio_signature(settings.SMS_PROVIDER_TOKEN, url, params)
        return hmac.compare_digest(expected, signature)

    def _create(
        self, resource: str, form: dict, status_callback: str, idempotency_key: str
    ) -> Receipt:
        account = settings.SMS_PROVIDER_ACCOUNT
        url = f"{settings.SMS_PROVIDER_URL.rstrip('/')}/{API_VERSION}/Accounts/{account}/{resource}"
        form = {**form, "From": settings.SMS_PROVIDER_FROM}
        if status_callback:
            form["StatusCallback"] = status_callback
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        timeout = settings.PAGING_HTTP_TIMEOUT_SECONDS
        try:
            response = httpx.post(
                url,
                data=form,
                headers=headers,
                auth=(account, settings.SMS_PROVIDER_TOKEN),
                timeout=timeout,
            )
        except httpx.TimeoutException as exc:
            raise TransientFailure(f"the SMS provider did not answer within {timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise TransientFailure(f"could not reach the SMS provider: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            sid = _json(response).get("sid") or ""
            return Receipt(provider_id=str(sid)[:64], status_code=status)
        error = _json(response)
        reason = f"the SMS provider answered {status}"
        if error.get("message"):
            reason += f": {error['message']}"
        if error.get("code"):
            reason += f" (error {error['code']})"
        if status == 429 or status >= 500:
            raise TransientFailure(reason, status_code=status)
        raise PermanentFailure(reason, status_code=status)


def _json(response: httpx.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


PROVIDER = TwilioProvider()


class SmsTransport:
    kind = "sms"
    label = "SMS"
    personal = True

    def available(self) -> bool:
        return PROVIDER.configured()

    def validate_address(self, address: str) -> str:
        return normalise_number(address)

    def send(self, message: Message) -> Receipt:
        return PROVIDER.send_sms(
            to=message.to,
            body=message.body.strip(),
            status_callback=message.status_callback,
            idempotency_key=message.message_id,
        )


class VoiceTransport(SmsTransport):
    """A phone call that reads the message out twice (TwiML ``<Say>``)."""

    kind = "voice"
    label = "Voice call"

    def send(self, message: Message) -> Receipt:
        text = escape(" ".join(message.body.split()))
        twiml = f'<Response><Say loop="2">{text}</Say></Response>'
        return PROVIDER.place_call(
            to=message.to,
            twiml=twiml,
            status_callback=message.status_callback,
            idempotency_key=message.message_id,
        )


register_transport(SmsTransport())
register_transport(VoiceTransport())
