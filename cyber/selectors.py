"""Reads of cyber items, scoped to the caller. Views start here, never from ``Model.objects``.

The crisis decides who may know the items exist (``crisis.selectors.crises_visible_to``);
TLP:RED narrows that to the item's named recipients and the desk that shared it — a
coordinator or auditor who sees every crisis still does not see a RED item not meant for
their desk.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.errors import NotFound
from core.tlp import TLP
from crisis.models import Crisis
from crisis.selectors import crises_visible_to
from cyber.models import CyberItem
from directory.access import Access


def visible_crisis(access: Access, crisis_id: int) -> Crisis:
    """The crisis if the caller may know it exists; 404 otherwise (hidden = missing)."""
    crisis = crises_visible_to(access).filter(pk=crisis_id).first()
    if crisis is None:
        raise NotFound(_("No such crisis."), details={"crisis": crisis_id})
    return crisis


def red_for(access: Access) -> Q:
    """RED items the caller is a named recipient of (or whose desk shared them)."""
    named = CyberItem.recipients.through.objects.filter(desk_id__in=access.desk_ids)
    return Q(shared_by_id__in=access.desk_ids) | Q(pk__in=named.values("cyberitem_id"))


def items_visible_to(access: Access, crisis: Crisis) -> QuerySet[CyberItem]:
    """The crisis's items the caller may read (``crisis`` already checked visible)."""
    if not access.is_authenticated:
        return CyberItem.objects.none()
    return (
        CyberItem.objects.filter(crisis=crisis)
        .filter(~Q(tlp=TLP.RED) | red_for(access))
        .select_related("shared_by")
        .prefetch_related("recipients")
        .order_by("created_at", "id")
    )
