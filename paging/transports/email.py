"""E-mail over Django's mail framework (``EMAIL_URL``: ``smtp://host:25`` in production)."""

from __future__ import annotations

import smtplib

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

    def send(self, message: Message) -> None:
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={"Message-ID": message.message_id, **message.headers},
        )
        try:
            connection = get_connection(fail_silently=False)
            if hasattr(connection, "timeout") and connection.timeout is None:
                connection.timeout = settings.EMAIL_TIMEOUT
            connection.send_messages([email])
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"the mail server refused the address: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            reason = f"the mail server answered {exc.smtp_code}: {_text(exc.smtp_error)}"
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(reason) from exc
            raise TransientFailure(reason) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientFailure(f"could not reach the mail server: {exc}") from exc


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


register_transport(EmailTransport())
