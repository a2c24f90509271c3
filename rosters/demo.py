"""Demo rosters: at every desk one person is on duty around the clock, a daily 24-hour
shift from 08:00 in the desk's own time zone (the operator; the coordinator at the
regional centre). Idempotent: the shift is found by its fixed UID. Makes no logins."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from directory.models import Desk, DeskMembership, Role
from rosters import services

FIRST_DAY = datetime(2025, 1, 1, 8, 0)


@transaction.atomic
def seed() -> list:
    coordinator = get_user_model().objects.filter(username="coordinator").first()
    if coordinator is None:
        return []  # the directory demo (crisis) has not run
    for desk in Desk.objects.filter(is_active=True):
        roster, _ = services.open_roster(by=coordinator, desk=desk)
        uid = f"demo-{desk.code.lower()}-daily@rosters"
        if roster.shifts.filter(uid=uid).exists():
            continue
        on_duty = (
            DeskMembership.objects.filter(desk=desk, role__in=[Role.OPERATOR, Role.COORDINATOR])
            .order_by("role", "user__username")
            .first()
        )
        if on_duty is None:
            continue
        services.add_shift(
            by=coordinator,
            roster=roster,
            person=on_duty.user,
            starts_local=FIRST_DAY,
            duration_minutes=24 * 60,
            rrule="FREQ=DAILY",
            uid=uid,
        )
    return []
