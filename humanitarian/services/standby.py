"""Standby assets: suggestions for a request, and an offer from an asset in one call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from core.errors import InvalidInput, NotFound
from directory.access import Access, access_for
from humanitarian.models import AssistanceRequest, Pledge, StandbyAsset
from humanitarian.selectors import requests_visible_to, standby_assets_visible_to
from humanitarian.services.assistance import make_pledge


@dataclass(frozen=True)
class Suggestion:
    asset: StandbyAsset
    item_matches: bool
    covers_remaining: bool
    suggested_quantity: int
    ready_at: datetime


def suggest_standby_assets(
    *, access: Access, request: AssistanceRequest, limit: int = 20
) -> list[Suggestion]:
    """Available assets of *other* states for the request's sector, best first.

    Order: the exact item before other items of the sector, then assets that can cover
    everything still open, then the shortest readiness time, then the largest capacity.
    """
    remaining = max(request.quantity_remaining, 1)
    assets = (
        standby_assets_visible_to(access)
        .filter(sector=request.sector, is_available=True)
        .exclude(state_id=request.state_id)
        .annotate(
            item_rank=Case(
                When(item=request.item, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            cover_rank=Case(
                When(capacity__gte=remaining, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("item_rank", "cover_rank", "readiness_hours", "-capacity", "state__code", "pk")
    )[:limit]
    now = timezone.now()
    return [
        Suggestion(
            asset=asset,
            item_matches=asset.item == request.item,
            covers_remaining=asset.capacity >= remaining,
            suggested_quantity=min(asset.capacity, remaining),
            ready_at=now + timedelta(hours=asset.readiness_hours),
        )
        for asset in assets
    ]


def offer_from_asset(
    *,
    by,
    asset_id: int,
    request_id: int,
    quantity: int | None = None,
    eta: datetime | None = None,
    conditions: str = "",
) -> Pledge:
    """Pledge a standby asset against a request in one call, by the asset's desk.

    Quantity defaults to what the asset can give of what is still open; the ETA to now
    plus the asset's readiness time.
    """
    access = access_for(by)
    with transaction.atomic():
        asset = standby_assets_visible_to(access).filter(pk=asset_id).first()
        req = requests_visible_to(access).filter(pk=request_id).first()
        if asset is None or req is None:
            raise NotFound("No such standby asset or request.")
        if asset.item != req.item:
            raise InvalidInput(
                f"This asset provides {asset.item}; the request needs {req.item}.",
                code="asset_mismatch",
                details={"asset_item": asset.item, "request_item": req.item},
            )
        qty = (
            quantity
            if quantity is not None
            else min(asset.capacity, max(req.quantity_remaining, 1))
        )
        if qty > asset.capacity:
            raise InvalidInput(
                f"The asset's capacity is {asset.capacity} {asset.unit}.",
                details={"fields": {"quantity": [f"at most {asset.capacity}"]}},
            )
        return make_pledge(
            by=by,
            desk=asset.desk,
            request_id=req.pk,
            quantity=qty,
            eta=eta or timezone.now() + timedelta(hours=asset.readiness_hours),
            conditions=conditions or f"From standby asset: {asset.name}",
            source_asset=asset,
        )
