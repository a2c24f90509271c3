"""Pieces every humanitarian service shares: who acts for which state, and announcing."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import InvalidInput, PermissionDenied, TransitionNotAllowed
from core.events import desk_group, publish_on_commit
from crisis.models import Crisis, CrisisStatus
from directory.access import Access
from directory.models import Desk
from humanitarian.models import ITEMS

#: The largest count (quantity, capacity, population) a PostgreSQL integer column holds;
#: the edges refuse larger numbers with a 400 instead of failing at the database.
MAX_COUNT = 2_147_483_647

#: A crisis takes new assistance records while it is not resolved or closed.
WORKING_CRISIS_STATUSES = frozenset(
    {CrisisStatus.REPORTED, CrisisStatus.ACTIVE, CrisisStatus.DE_ESCALATING}
)


#: The actions a refusal names, in the reader's language (``details["action"]`` keeps
#: the English words: clients read it).
ACTION_WORDS = {
    "open this request": gettext_lazy("open this request"),
    "close this request": gettext_lazy("close this request"),
    "cancel this request": gettext_lazy("cancel this request"),
    "accept pledges to this request": gettext_lazy("accept pledges to this request"),
    "decline pledges to this request": gettext_lazy("decline pledges to this request"),
    "claim offers for this request": gettext_lazy("claim offers for this request"),
    "withdraw this pledge": gettext_lazy("withdraw this pledge"),
    "dispatch this pledge": gettext_lazy("dispatch this pledge"),
    "confirm deliveries": gettext_lazy("confirm deliveries"),
    "update this shelter": gettext_lazy("update this shelter"),
}


def writing_desk_for_state(access: Access, state_id: int | None) -> Desk | None:
    """The caller's first writing desk of ``state_id`` (the centre's when it is None), if
    any: who may act for a state's records (shelters, standby assets). The console asks
    it to offer only the forms :func:`desk_acting_for_state` will let through."""
    return next((d for d in access.writing_desks() if d.state_id == state_id), None)


def desk_acting_for_state(access: Access, state_id: int | None, *, what: str) -> Desk:
    """The caller's writing desk for ``state_id`` (the centre's desk when it is None).

    Called once the caller is known to see the record, so a refusal is 403, not 404.
    """
    desk = writing_desk_for_state(access, state_id)
    if desk is not None:
        return desk
    if access.is_auditor and not access.can_write:
        raise PermissionDenied(_("Auditors have read-only access."), code="read_only")
    owner = (
        _("the regional coordination centre") if state_id is None else _("the owning member state")
    )
    raise PermissionDenied(
        _("Only a desk of %(owner)s may %(what)s.")
        % {"owner": owner, "what": ACTION_WORDS.get(what, what)},
        code="not_owner",
        details={"action": what},
    )


def require_working_crisis(crisis: Crisis) -> None:
    if crisis.status not in WORKING_CRISIS_STATUSES:
        raise TransitionNotAllowed(
            _(
                "Crisis %(crisis_reference)s is %(crisis_status)s: it takes no new "
                "assistance records."
            )
            % {"crisis_reference": crisis.reference, "crisis_status": crisis.status},
            code="crisis_not_working",
            details={"crisis_status": crisis.status},
        )


def check_item(*, sector: str, item: str) -> str:
    """Validate ``item`` against the catalogue and ``sector``; return its unit."""
    found = ITEMS.get(item)
    if found is None:
        raise InvalidInput(
            _("Unknown item %(item)s: use an item code from the catalogue.") % {"item": repr(item)},
            code="unknown_item",
            details={"fields": {"item": [f"unknown item {item!r}"]}},
        )
    if found.sector != sector:
        raise InvalidInput(
            _("Item %(item)s belongs to sector %(found_sector)s, not %(sector)s.")
            % {"item": repr(item), "found_sector": repr(found.sector), "sector": repr(sector)},
            code="item_not_in_sector",
            details={"fields": {"item": [f"belongs to sector {found.sector!r}"]}},
        )
    return found.unit


def announce(crisis: Crisis, event: dict, *desks: Desk | int | None) -> None:
    """Tell the crisis's participating desks and the given desks, after commit."""
    desk_ids = set(crisis.participants.values_list("desk_id", flat=True))
    for desk in desks:
        if desk is not None:
            desk_ids.add(desk if isinstance(desk, int) else desk.pk)
    publish_on_commit(
        [desk_group(desk_id) for desk_id in sorted(desk_ids)],
        {"crisis_id": crisis.pk, **event},
    )
