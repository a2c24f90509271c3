"""Desk webhooks: a page's events posted to the desk's own system, signed per the
Standard Webhooks spec (the ``standardwebhooks`` library).

Each post carries ``webhook-id`` (the attempt's id, the same on every retry, so the
receiver can drop a duplicate), ``webhook-timestamp`` (this try's time: receivers refuse
stale ones) and ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of
``id.timestamp.body`` with the desk's ``whsec_…`` secret). A 2xx is delivered; 410 Gone
means the endpoint is gone for good (not retried); anything else, a timeout or no
connection is retried with backoff (``PAGING_RETRY_BACKOFF_SECONDS``, up to
``PAGING_MAX_TRIES``), every try in the delivery log.
"""

from __future__ import annotations

import httpx
from django.conf import settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from paging.transports import (
    Message,
    PermanentFailure,
    Receipt,
    TransientFailure,
    register_transport,
)


def signed_headers(*, secret: str, message_id: str, body: str) -> dict[str, str]:
    now = timezone.now()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=message_id, timestamp=now, data=body),
    }


class WebhookTransport:
    kind = "webhook"
    label = "Desk webhook"
    personal = False

    def available(self) -> bool:
        return True

    def validate_address(self, address: str) -> str:
        return address

    def send(self, message: Message) -> Receipt:
        headers = {
            "content-type": "application/json",
            "user-agent": "crisis-hotline-paging",
            **signed_headers(
                secret=message.secret, message_id=message.message_id, body=message.body
            ),
        }
        timeout = settings.PAGING_HTTP_TIMEOUT_SECONDS
        try:
            response = httpx.post(
                message.to,
                content=message.body.encode(),
                headers=headers,
                timeout=timeout,
                follow_redirects=False,
            )
        except httpx.TimeoutException as exc:
            raise TransientFailure(f"no answer within {timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise TransientFailure(f"could not reach the webhook: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return Receipt(status_code=status)
        reason = f"the webhook answered {status}"
        if status == 410:
            raise PermanentFailure(reason + " (gone)", status_code=status)
        raise TransientFailure(reason, status_code=status)


register_transport(WebhookTransport())
