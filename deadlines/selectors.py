"""Reads of the deadline engine's rows, for the people who run it."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.errors import InvalidInput, PermissionDenied
from deadlines.models import Deadline, DeadlineState


def deadlines_visible_to(access, *, state: str | None = None) -> QuerySet[Deadline]:
    """The deadline engine's rows: an operational view for coordinators and staff only."""
    if not (access.is_coordinator or getattr(access.user, "is_staff", False)):
        raise PermissionDenied(
            _("The deadline view is for regional coordinators and staff."),
            details={"required": ["coordinator", "staff"]},
        )
    state = state or DeadlineState.PENDING
    if state not in DeadlineState.values:
        raise InvalidInput(
            _("Unknown deadline state %(state)s: use one of %(deadlinestate_values)s.")
            % {"state": repr(state), "deadlinestate_values": ", ".join(DeadlineState.values)},
            details={"state": state},
        )
    deadlines = Deadline.objects.filter(state=state)
    if state == DeadlineState.PENDING:
        return deadlines.order_by("due_at", "id")
    return deadlines.order_by("-fired_at", "-cancelled_at", "-id")
