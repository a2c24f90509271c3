"""Demo only: every demo person gets ``<username>@example.org`` as a verified e-mail
method and their own rules paging it at once for every urgency (flash, escalation,
urgent, routine), so the demo pages land in the outbox ``make run`` prints
(``var/outbox``) and the console's notification centre shows each delivery.

A real deployment never marks a method verified without the code (docs/paging.md).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from paging.models import ContactKind, ContactMethod, NotificationRule, Urgency


def seed() -> list:
    people = get_user_model().objects.filter(desk_memberships__isnull=False).distinct()
    with transaction.atomic():
        for person in people:
            ContactMethod.objects.update_or_create(
                user=person,
                kind=ContactKind.EMAIL,
                address=f"{person.get_username()}@example.org",
                defaults={"verified_at": timezone.now(), "label": "demo", "position": 0},
            )
            for urgency in Urgency.values:
                NotificationRule.objects.get_or_create(
                    user=person, urgency=urgency, kind=ContactKind.EMAIL, delay_seconds=0
                )
    return []
