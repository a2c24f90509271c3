"""Transports: how a message reaches a contact method of one kind.

A transport is registered by the method kind it serves (``register_transport``); only
registered kinds are offered to people, so nothing is offered that does nothing. E-mail
registers itself here; SMS, voice and webhook transports plug in the same way (from
their own module, at import time or in an ``AppConfig.ready``).

``send`` either returns (the message was handed over: for SMTP, the server answered 250)
or raises :class:`TransientFailure` (try again later: connection refused, timeout, 4xx)
or :class:`PermanentFailure` (do not retry this method: 5xx, address refused).
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
    #: receiver can fold the two (RFC 5322 Message-ID for e-mail).
    message_id: str
    headers: dict = field(default_factory=dict)


class TransportError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TransientFailure(TransportError):
    """Worth retrying later with the same method."""


class PermanentFailure(TransportError):
    """This method will not work for this message: fail over to the next one."""


class Transport(Protocol):
    kind: str
    label: str

    def validate_address(self, address: str) -> str:
        """Return the normalised address or raise ``ValueError`` with a plain reason."""

    def send(self, message: Message) -> None: ...


TRANSPORTS: dict[str, Transport] = {}


def register_transport(transport: Transport) -> Transport:
    TRANSPORTS[transport.kind] = transport
    return transport


def transport_for(kind: str) -> Transport | None:
    return TRANSPORTS.get(kind)


def offered_kinds() -> list[str]:
    return sorted(TRANSPORTS)


from paging.transports import email  # noqa: E402, F401  (registers the e-mail transport)
