"""Who may see a TLP-marked item, and where it may go: the one rule every surface asks.

An item (a hotline message, a situation update, an attachment) is marked with a TLP 2.0
level (``core.tlp``). Whoever may see the item's container (the line, the crisis, the
request) may see it, unless its marking is narrower than that:

- CLEAR, GREEN, AMBER: as the container (every desk of a line or crisis, and the regional
  centre's coordinators and auditors who read across states).
- AMBER+STRICT: only people of the recipients' *organisations*. Here an organisation is a
  member state (all its national desks), and the regional coordination centre is one of
  its own (its desks have no state).
- RED: only people of the recipient desks themselves.

The recipients of an item are the desks it was addressed to when it was made (the line's
members when a message was sent, the crisis's parties when an update was posted); they are
kept with narrow items (``recipient_desks``) so a desk that joins later does not see them.

Leaving the service (an export, a CAP alert, a forward): RED never leaves its recipients;
AMBER+STRICT leaves only towards its recipients' organisations; a forward takes the
narrower of the item's marking and the one asked for.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from core.errors import PermissionDenied
from core.tlp import ORDER, TLP, label, narrower

#: Markings that restrict an item below its container's audience.
NARROW = frozenset({TLP.AMBER_STRICT.value, TLP.RED.value})
#: Markings whose text may go to every desk of the service (CAP's restricted audience).
COMMUNITY = frozenset({TLP.CLEAR.value, TLP.GREEN.value})


def is_narrow(tlp: str) -> bool:
    return tlp in NARROW


def organisation(desk_id: int, state_id: int | None) -> tuple[str, int]:
    """A desk's organisation: its member state, or the regional centre (every desk
    without a state)."""
    return ("state", state_id) if state_id else ("centre", 0)


def may_see(access, *, tlp: str, recipients: Iterable[tuple[int, int | None]]) -> bool:
    """Whether ``access`` may see an item marked ``tlp`` whose recipients are the
    ``(desk_id, state_id)`` pairs given (only read for narrow markings). The caller has
    already checked that ``access`` sees the item's container."""
    if tlp not in NARROW:
        return True
    recipients = list(recipients)
    if tlp == TLP.RED:
        return bool(access.desk_ids & {desk_id for desk_id, _ in recipients})
    mine = {organisation(m.desk_id, m.desk.state_id) for m in access.memberships}
    return bool(mine & {organisation(d, s) for d, s in recipients})


def visible_q(access, through, *, owner_field: str) -> Q:
    """A queryset filter for items the caller may see (containers already scoped).

    ``through`` is the item's ``recipient_desks.through`` model; ``owner_field`` its
    column naming the item (e.g. ``"message"``).
    """
    recipients = through.objects.filter(**{owner_field: OuterRef("pk")})
    red = recipients.filter(desk_id__in=access.desk_ids)
    same_organisation = Q(desk_id__in=access.desk_ids) | Q(desk__state_id__in=access.state_ids)
    if any(m.desk.state_id is None for m in access.memberships):
        same_organisation |= Q(desk__state__isnull=True)  # the regional centre's desks
    strict = recipients.filter(same_organisation)
    return (
        ~Q(tlp__in=NARROW)
        | (Q(tlp=TLP.RED) & Exists(red))
        | (Q(tlp=TLP.AMBER_STRICT) & Exists(strict))
    )


def forward_marking(original: str, requested: str | None = None) -> str:
    """The marking of a forward of an item marked ``original``: the narrower of the two.

    Refuses (403 ``tlp_red``) to forward a RED item: it never leaves its recipients.
    """
    if original == TLP.RED:
        raise PermissionDenied(
            _("TLP:RED items stay with their recipients: they cannot be forwarded."),
            code="tlp_red",
            details={"tlp": original},
        )
    return narrower(original, requested or original)


def check_marking(value) -> str:
    """A TLP marking from input (``AMBER+STRICT``, ``TLP:RED``, any case) or ValueError."""
    text = str(value or "").strip().upper()
    text = text.removeprefix("TLP:")
    if text not in TLP.values:
        choices = ", ".join(label(t) for t in ORDER)
        raise ValueError(f"Unknown TLP marking {value!r}: use one of {choices}.")
    return text


__all__ = [
    "COMMUNITY",
    "NARROW",
    "check_marking",
    "forward_marking",
    "is_narrow",
    "may_see",
    "organisation",
    "visible_q",
]
