"""Fixtures of the paging tests: a real SMTP server the code sends to, verified methods."""

from __future__ import annotations

import pytest
from django.utils import timezone

from paging.models import ContactMethod
from tests.support.smtp import SMTPServer


@pytest.fixture
def smtp(settings):
    """A real SMTP server; this process's mail goes to it."""
    server = SMTPServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 3
    try:
        yield server
    finally:
        server.stop()


def verified_email(user, address: str | None = None, *, position: int = 0) -> ContactMethod:
    return ContactMethod.objects.create(
        user=user,
        kind="email",
        address=address or f"{user.username}@example.org",
        position=position,
        verified_at=timezone.now(),
    )
