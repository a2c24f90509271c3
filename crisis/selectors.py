"""Reads scoped to the caller. Views start here, never from ``Model.objects``."""

from __future__ import annotations

from django.db.models import QuerySet

from crisis.access import Access
from crisis.errors import InvalidInput, PermissionDenied
from crisis.models import Deadline, DeadlineState, Desk, MemberState


def states_visible_to(access: Access) -> QuerySet[MemberState]:
    """The member-state directory is shared across the region with every signed-in person."""
    if not access.is_authenticated:
        return MemberState.objects.none()
    return MemberState.objects.all()


def desks_visible_to(access: Access, *, state_code: str | None = None) -> QuerySet[Desk]:
    """Every active desk is in the shared directory (who to call is not a secret)."""
    if not access.is_authenticated:
        return Desk.objects.none()
    desks = Desk.objects.filter(is_active=True).select_related("state")
    if state_code:
        code = state_code.strip().upper()
        if not MemberState.objects.filter(code=code).exists():
            raise InvalidInput(
                f"Unknown state code {state_code!r}: use an ISO 3166-1 alpha-3 code of a "
                "member state, e.g. THA.",
                code="unknown_state",
                details={"state": state_code},
            )
        desks = desks.filter(state__code=code)
    return desks


def deadlines_visible_to(access: Access, *, state: str | None = None) -> QuerySet[Deadline]:
    """The deadline engine's rows: an operational view for coordinators and staff only."""
    if not (access.is_coordinator or getattr(access.user, "is_staff", False)):
        raise PermissionDenied(
            "The deadline view is for regional coordinators and staff.",
            details={"required": ["coordinator", "staff"]},
        )
    state = state or DeadlineState.PENDING
    if state not in DeadlineState.values:
        raise InvalidInput(
            f"Unknown deadline state {state!r}: use one of {', '.join(DeadlineState.values)}.",
            details={"state": state},
        )
    deadlines = Deadline.objects.filter(state=state)
    if state == DeadlineState.PENDING:
        return deadlines.order_by("due_at", "id")
    return deadlines.order_by("-fired_at", "-cancelled_at", "-id")
