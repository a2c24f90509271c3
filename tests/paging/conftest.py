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


@pytest.fixture(autouse=True)
def everyone_on_duty(request):
    """Rosters putting each desk's operators and supervisors on duty around the clock (a
    daily 24-hour shift), so the paging tests page the people they name. Who is on duty
    when is the rosters' own business (tests/rosters)."""
    if "region" not in request.fixturenames:
        return
    from datetime import datetime

    from directory.models import DeskMembership, Role
    from rosters import services as rosters

    region = request.getfixturevalue("region")
    members = DeskMembership.objects.filter(role__in=[Role.OPERATOR, Role.SUPERVISOR])
    for membership in members.select_related("desk", "user"):
        roster, _ = rosters.open_roster(by=region.coordinator, desk=membership.desk)
        rosters.add_shift(
            by=region.coordinator,
            roster=roster,
            person=membership.user,
            starts_local=datetime(2025, 1, 1, 0, 0),
            duration_minutes=24 * 60,
            rrule="FREQ=DAILY",
        )


@pytest.fixture
def fire(django_capture_on_commit_callbacks):
    """Fire every due deadline in this process, sends included (they run on commit)."""
    from deadlines.services import fire_due_deadlines

    def fire():
        with django_capture_on_commit_callbacks(execute=True):
            return fire_due_deadlines()

    return fire


def make_due(attempt) -> None:
    """Bring an attempt's pending deadline (its delay or its backoff) to now."""
    from deadlines.models import Deadline
    from paging.services.delivery import ATTEMPT_KIND

    moved = Deadline.objects.filter(
        kind=ATTEMPT_KIND, subject_key=attempt.deadline_subject, state="pending"
    ).update(due_at=timezone.now())
    assert moved == 1, f"no pending deadline for {attempt}"


@pytest.fixture
def sms_provider(settings):
    """A local server speaking Twilio's REST API; this process's SMS and calls go to it."""
    from tests.support.http_providers import SmsProvider

    server = SmsProvider().start()
    settings.SMS_PROVIDER_URL = server.url
    settings.SMS_PROVIDER_ACCOUNT = server.ACCOUNT
    settings.SMS_PROVIDER_TOKEN = server.TOKEN
    settings.SMS_PROVIDER_FROM = server.FROM
    settings.PAGING_HTTP_TIMEOUT_SECONDS = 3
    try:
        yield server
    finally:
        server.stop()


def verified_phone(user, number: str, *, kind: str = "sms", position: int = 0) -> ContactMethod:
    return ContactMethod.objects.create(
        user=user, kind=kind, address=number, position=position, verified_at=timezone.now()
    )
