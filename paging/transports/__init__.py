"""Transports: how a message reaches a contact method of one kind (or a desk webhook).

A transport is registered by the kind it serves (``register_transport``). Only kinds whose
transport is **configured** (``available()``: e-mail always; SMS and voice once the
provider's URL and credentials are set) and which reach a person (``personal``; a desk
webhook does not) are offered to people, so nothing is offered that does nothing.

``send(message)`` either returns (the message was handed over: for SMTP the server
answered 250, for an HTTP API a 2xx) — optionally a :class:`Receipt` with the provider's
id and the HTTP status — or raises :class:`TransientFailure` (try again later:
connection refused, timeout, 4xx over SMTP, 5xx or 429 over HTTP) or
:class:`PermanentFailure` (do not retry this method: fail over to the next one). Both carry
the HTTP status where there was one, for the delivery log.

Transports here: ``email`` (SMTP, :mod:`paging.transports.email`), ``sms`` and ``voice``
(one provider adapter, Twilio's REST API: :mod:`paging.transports.phone`), ``webhook``
(Standard Webhooks: :mod:`paging.transports.webhook`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str
    #: Stable per delivery attempt, so a resend after a crash carries the same id and a
    #: receiver can fold the two (RFC 5322 Message-ID for e-mail, ``webhook-id`` for
    #: webhooks, an idempotency key for the SMS provider).
    message_id: str
    headers: dict = field(default_factory=dict)
    #: Where the provider should post its delivery receipts (SMS and voice).
    status_callback: str = ""
    #: The key that signs the message (webhooks), never logged.
    secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class Receipt:
    """What the far end said when it took the message."""

    provider_id: str = ""
    status_code: int | None = None
    detail: str = ""


class TransportError(Exception):
    def __init__(self, reason: str, *, status_code: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


class TransientFailure(TransportError):
    """Worth retrying later with the same method."""


class PermanentFailure(TransportError):
    """This method will not work for this message: fail over to the next one."""


class Transport(Protocol):
    kind: str
    label: str
    #: Reaches a person (offered as a contact method); a desk webhook does not.
    personal: bool

    def available(self) -> bool:
        """Configured to deliver now (read from settings at each call)."""

    def validate_address(self, address: str) -> str:
        """Return the normalised address or raise ``ValueError`` with a plain reason."""

    def send(self, message: Message) -> Receipt | None: ...


TRANSPORTS: dict[str, Transport] = {}


def register_transport(transport: Transport) -> Transport:
    TRANSPORTS[transport.kind] = transport
    return transport


def transport_for(kind: str) -> Transport | None:
    """The transport of ``kind`` if it is configured, else None."""
    transport = TRANSPORTS.get(kind)
    return transport if transport is not None and transport.available() else None


def offered_kinds() -> list[str]:
    """The contact method kinds people may add and be paged by, now."""
    return sorted(k for k, t in TRANSPORTS.items() if t.personal and t.available())


from paging.transports import email, phone, webhook  # noqa: E402, F401  (they register)
