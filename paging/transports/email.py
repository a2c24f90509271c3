"""E-mail over Django's mail framework (``EMAIL_URL``: ``smtp://host:25`` in production)."""

from __future__ import annotations

import smtplib
import threading
from contextlib import contextmanager, suppress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email

from paging.transports import (
    Message,
    PermanentFailure,
    TransientFailure,
    register_transport,
)


class EmailTransport:
    kind = "email"
    label = "E-mail"
    personal = True

    def available(self) -> bool:
        return True

    def validate_address(self, address: str) -> str:
        address = (address or "").strip()
        try:
            validate_email(address)
        except ValidationError:
            raise ValueError(f"{address!r} is not an e-mail address.") from None
        return address

    def __init__(self):
        self._batch = threading.local()

    @contextmanager
    def batch(self):
        """Sends inside share one SMTP connection, opened at the first send and closed
        at the end (or after a failure: the next send opens a fresh one)."""
        self._batch.active, self._batch.connection = True, None
        try:
            yield
        finally:
            self._batch.active = False
            self._drop()

    def _connection(self):
        connection = getattr(self._batch, "connection", None)
        if connection is None:
            connection = get_connection(fail_silently=False)
            if hasattr(connection, "timeout") and connection.timeout is None:
                connection.timeout = settings.EMAIL_TIMEOUT
            if getattr(self._batch, "active", False):
                connection.open()  # kept open until the batch ends
                self._batch.connection = connection
        return connection

    def _drop(self) -> None:
        connection, self._batch.connection = getattr(self._batch, "connection", None), None
        if connection is not None:
            with suppress(Exception):  # a broken connection is being thrown away anyway
                connection.close()

    def send(self, message: Message) -> None:
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={"Message-ID": message.message_id, **message.headers},
        )
        try:
            self._connection().send_messages([email])
        except smtplib.SMTPRecipientsRefused as exc:
            self._drop()
            raise PermanentFailure(f"the mail server refused the address: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            self._drop()
            reason = f"the mail server answered {exc.smtp_code}: {_text(exc.smtp_error)}"
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(reason) from exc
            raise TransientFailure(reason) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise TransientFailure(f"could not reach the mail server: {exc}") from exc


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


register_transport(EmailTransport())
