"""Gap analysis: per crisis and sector, what was requested, pledged, accepted, delivered.

Quantities are only summed per item (each item has one unit, see the catalogue); a
sector's coverage is the mean coverage of its needs, each capped at 100 %, so a surplus
on one need does not hide a gap on another.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput
from crisis.models import Crisis
from directory.access import Access
from humanitarian.models import (
    ITEMS,
    LIVE_REQUEST_STATUSES,
    AssistanceRequest,
    Pledge,
    PledgeStatus,
    RequestStatus,
    Sector,
)
from humanitarian.selectors import visible_crisis

COUNTED_REQUEST_STATUSES = [*LIVE_REQUEST_STATUSES, RequestStatus.CLOSED]
LIVE_PLEDGE_STATUSES = [
    PledgeStatus.OFFERED,
    PledgeStatus.ACCEPTED,
    PledgeStatus.DISPATCHED,
    PledgeStatus.DELIVERED,
]


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def gap_figures(*, crisis: Crisis, sector: str | None = None, now: datetime | None = None) -> dict:
    """The figures for one crisis (unscoped: callers check visibility). Three queries."""
    now = now or timezone.now()
    requests = AssistanceRequest.objects.filter(
        crisis=crisis, status__in=COUNTED_REQUEST_STATUSES
    ).select_related("state")
    if sector:
        requests = requests.filter(sector=sector)
    requests = list(requests.order_by("sector", "item", "needed_by", "pk"))
    pledged = dict(
        Pledge.objects.filter(request__in=[r.pk for r in requests], status__in=LIVE_PLEDGE_STATUSES)
        .values("request_id")
        .annotate(total=Sum("quantity"))
        .values_list("request_id", "total")
    )
    standalone = (
        Pledge.objects.filter(crisis=crisis, request__isnull=True, status=PledgeStatus.OFFERED)
        .filter(Q(sector=sector) if sector else Q())
        .values("sector", "item")
        .annotate(available=Sum("quantity_available"))
    )
    available = {(row["sector"], row["item"]): row["available"] for row in standalone}

    sectors: dict[str, dict] = {}
    items: dict[tuple, dict] = {}
    coverage: dict[str, list[float]] = defaultdict(list)
    delivered_cov: dict[str, list[float]] = defaultdict(list)
    overdue = []
    for req in requests:
        s = sectors.setdefault(
            req.sector,
            {"sector": req.sector, "label": str(Sector(req.sector).label), "needs": 0,
             "needs_covered": 0, "overdue": 0, "items": []},
        )  # fmt: skip
        key = (req.sector, req.item)
        row = items.get(key)
        if row is None:
            row = items[key] = {
                "item": req.item,
                "label": ITEMS[req.item].label,
                "unit": req.unit,
                "requested": 0,
                "pledged": 0,
                "accepted": 0,
                "delivered": 0,
                "open_offers": available.get(key, 0),
            }
            s["items"].append(row)
        row["requested"] += req.quantity
        row["pledged"] += pledged.get(req.pk, 0)
        row["accepted"] += req.quantity_accepted
        row["delivered"] += req.quantity_delivered
        s["needs"] += 1
        if req.quantity_accepted >= req.quantity:
            s["needs_covered"] += 1
        coverage[req.sector].append(min(req.quantity_accepted / req.quantity, 1.0))
        delivered_cov[req.sector].append(min(req.quantity_delivered / req.quantity, 1.0))
        is_overdue = (
            req.status in LIVE_REQUEST_STATUSES
            and req.needed_by < now
            and req.quantity_delivered < req.quantity
        )
        if is_overdue:
            s["overdue"] += 1
            overdue.append(
                {
                    "request_id": req.pk,
                    "reference": req.reference,
                    "state": req.state.code,
                    "sector": req.sector,
                    "item": req.item,
                    "unit": req.unit,
                    "quantity": req.quantity,
                    "accepted": req.quantity_accepted,
                    "delivered": req.quantity_delivered,
                    "needed_by": req.needed_by.isoformat(),
                    "hours_overdue": round((now - req.needed_by).total_seconds() / 3600, 1),
                    "priority": req.priority,
                    "status": req.status,
                }
            )
    for code, s in sectors.items():
        for row in s["items"]:
            row["coverage_pct"] = _pct(min(row["accepted"], row["requested"]), row["requested"])
            row["delivered_pct"] = _pct(min(row["delivered"], row["requested"]), row["requested"])
            row["gap"] = max(row["requested"] - row["accepted"], 0)
        s["coverage_pct"] = round(100.0 * sum(coverage[code]) / len(coverage[code]), 1)
        s["delivered_pct"] = round(100.0 * sum(delivered_cov[code]) / len(delivered_cov[code]), 1)
    all_cov = [c for values in coverage.values() for c in values]
    return {
        "crisis": {
            "id": crisis.pk,
            "reference": crisis.reference,
            "title": crisis.title,
            "exercise": crisis.exercise,
        },
        # A drill's figures are its own (items hang off their crisis): marked, never
        # part of a real crisis's.
        "exercise": crisis.exercise,
        "generated_at": now.isoformat(),
        "needs": len(requests),
        "coverage_pct": round(100.0 * sum(all_cov) / len(all_cov), 1) if all_cov else 0.0,
        "sectors": list(sectors.values()),
        "overdue": overdue,
    }


def gap_analysis(*, access: Access, crisis_id: int, sector: str | None = None) -> dict:
    """Gap figures for a crisis the caller may see (404 otherwise)."""
    crisis = visible_crisis(access, crisis_id)
    if sector and sector not in Sector.values:
        raise InvalidInput(
            _("Unknown sector %(sector)s; one of %(sector_values)s.")
            % {"sector": repr(sector), "sector_values": ", ".join(Sector.values)},
            details={"fields": {"sector": ["unknown sector"]}},
        )
    return gap_figures(crisis=crisis, sector=sector)
