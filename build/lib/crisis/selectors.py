"""Reads scoped to the caller. Views start here, never from ``Model.objects``."""

from __future__ import annotations

from django.db.models import QuerySet

from crisis.access import Access
from crisis.errors import InvalidInput, PermissionDenied
from crisis.models import Crisis, Deadline, DeadlineState, Desk, MemberState


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


def crises_visible_to(access: Access) -> QuerySet[Crisis]:
    """Crises the caller may know exist.

    Coordinators and auditors see all. A national desk's people see the crises their
    state reported or is affected by, and those their desk takes part in.
    """
    if not access.is_authenticated:
        return Crisis.objects.none()
    crises = Crisis.objects.select_related("lead_desk", "reported_by_desk", "protocol_version")
    if access.sees_all_states:
        return crises
    state_ids, desk_ids = access.state_ids, access.desk_ids
    # .order_by(): SQLite refuses ORDER BY (the model's default ordering) inside a UNION.
    visible_ids = (
        Crisis.objects.filter(reported_by_desk__state_id__in=state_ids)
        .order_by()
        .values("pk")
        .union(
            Crisis.objects.filter(affected_states__in=state_ids).order_by().values("pk"),
            Crisis.objects.filter(participants__desk_id__in=desk_ids).order_by().values("pk"),
        )
    )
    return crises.filter(pk__in=visible_ids)


def is_party_to(access: Access, crisis: Crisis) -> bool:
    """Whether one of the caller's states is affected by, or desks take part in, ``crisis``."""
    if crisis.affected_states.filter(pk__in=access.state_ids).exists():
        return True
    return crisis.participants.filter(desk_id__in=access.desk_ids).exists()
