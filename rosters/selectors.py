"""Who is on duty at a desk, now or at a given time.

Stand-in on the paging branch: the desk's active operators and supervisors are all on
duty, always. The ``rosters`` app replaces this module (same signature) at merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model

from directory.models import Desk, Role

User = get_user_model()

ON_DUTY_ROLES = (Role.OPERATOR, Role.SUPERVISOR)


@dataclass(frozen=True)
class OnDuty:
    people: tuple  # tuple[User, ...]
    is_fallback: bool
    until: datetime | None


def on_duty(desk: Desk, *, at: datetime | None = None) -> OnDuty:
    """The people on duty at ``desk`` at ``at`` (default now)."""
    people = tuple(
        User.objects.filter(
            is_active=True,
            desk_memberships__desk=desk,
            desk_memberships__role__in=ON_DUTY_ROLES,
        )
        .distinct()
        .order_by("username")
    )
    return OnDuty(people=people, is_fallback=False, until=None)
