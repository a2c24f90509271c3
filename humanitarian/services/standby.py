"""Standby assets: an offer from an asset in one call.

Which assets to suggest for a request is a read: ``humanitarian.selectors.suggest_standby_assets``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput, NotFound
from directory.access import access_for
from humanitarian.models import Pledge
from humanitarian.selectors import requests_visible_to, standby_assets_visible_to
from humanitarian.services.assistance import make_pledge


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
            raise NotFound(_("No such standby asset or request."))
        if asset.item != req.item:
            raise InvalidInput(
                _("This asset provides %(asset_item)s; the request needs %(req_item)s.")
                % {"asset_item": asset.item, "req_item": req.item},
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
                _("The asset's capacity is %(asset_capacity)s %(asset_unit)s.")
                % {"asset_capacity": asset.capacity, "asset_unit": asset.unit},
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
