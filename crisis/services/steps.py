"""The steps every action on a crisis shares: begin (check who acts, lock the crisis row)
and announce (tell the desks concerned after commit).

The lifecycle actions (``crisis.services.crises``), the escalation actions
(``crisis.services.escalation``) and CAP intake (``crisis.services.cap_intake``) all begin
and announce through here, so "who may act on a crisis" is checked one way. The rule
itself is ``crisis.lifecycle.require_party``.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from core.errors import NotFound
from core.events import desk_group, publish_on_commit
from crisis import lifecycle
from crisis.models import Crisis
from crisis.selectors import crises_visible_to
from directory.access import Access, access_for
from directory.models import Desk, DeskKind


def lock_crisis(crisis: Crisis | int) -> Crisis:
    """The crisis row, locked (``SELECT … FOR UPDATE``). Must run inside a transaction."""
    crisis_id = crisis if isinstance(crisis, int) else crisis.pk
    return (
        Crisis.objects.select_for_update(of=("self",)).select_related("lead_desk").get(pk=crisis_id)
    )


def begin_crisis_action(*, by, desk: Desk, crisis: Crisis | int) -> tuple[Access, Crisis, set[str]]:
    """Check the caller acts for ``desk`` and may see ``crisis``; lock and return it, with
    how ``desk`` stands to it.

    Must run inside the action's transaction. Raises NotFound (hidden == missing) or
    PermissionDenied (a reader, or a desk that is no party to the crisis). The parties are
    worked out on the locked row, so a lead desk moved concurrently is seen.
    """
    crisis_id = crisis if isinstance(crisis, int) else crisis.pk
    access = access_for(by)
    access.require_act_for(desk)
    if not crises_visible_to(access).filter(pk=crisis_id).exists():
        raise NotFound(_("No such crisis."))
    locked = lock_crisis(crisis_id)
    return access, locked, lifecycle.require_party(desk, locked)


def audience_desk_ids(crisis: Crisis) -> list[int]:
    """Desks told about a change: participants, desks of affected states, the centre."""
    return list(
        Desk.objects.filter(
            Q(participations__crisis=crisis)
            | Q(state__in=crisis.affected_states.all())
            | Q(kind=DeskKind.REGIONAL),
            is_active=True,
        )
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )


def summary(crisis: Crisis) -> dict:
    """The crisis as a ``crisis.updated`` event carries it."""
    return {
        "id": crisis.pk,
        "reference": crisis.reference,
        "title": crisis.title,
        "status": crisis.status,
        "severity": crisis.severity,
        "lead_desk_id": crisis.lead_desk_id,
        "escalation_state": crisis.escalation_state,
        "current_level": crisis.current_level,
        "level_deadline_at": crisis.level_deadline_at.isoformat()
        if crisis.level_deadline_at
        else None,
    }


def announce(crisis: Crisis, change: str, **extra) -> None:
    """Push ``crisis.updated`` to every desk concerned once the transaction commits."""
    groups = [desk_group(pk) for pk in audience_desk_ids(crisis)]
    publish_on_commit(
        groups, {"type": "crisis.updated", "change": change, "crisis": summary(crisis), **extra}
    )
