"""Standby assets: the register kept by each state (add, change) and an offer from an
asset in one call.

Which assets to suggest for a request is a read: ``humanitarian.selectors.suggest_standby_assets``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput, NotFound
from directory.access import access_for
from directory.models import Desk
from humanitarian.models import ITEMS, AssetKind, Pledge, StandbyAsset
from humanitarian.selectors import requests_visible_to, standby_assets_visible_to
from humanitarian.services._common import MAX_COUNT, desk_acting_for_state
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


# --- the register: each state keeps its own assets ----------------------------------------

#: Longest readiness a register takes, in hours (a year): beyond it an asset is not on standby.
MAX_READINESS_HOURS = 24 * 365


def _log(by, asset: StandbyAsset, flag: int, message: str) -> None:
    """The register's history is Django's admin log (the admin edits the register too), so
    one history shows every change, whichever edge made it."""
    LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=[asset],
        action_flag=flag,
        change_message=message,
        single_object=True,
    )


def _check_counts(*, capacity, readiness_hours) -> None:
    problems = {}
    if capacity is not None and not (
        isinstance(capacity, int) and not isinstance(capacity, bool) and 1 <= capacity <= MAX_COUNT
    ):
        problems["capacity"] = [f"a whole number from 1 to {MAX_COUNT}"]
    if readiness_hours is not None and not (
        isinstance(readiness_hours, int)
        and not isinstance(readiness_hours, bool)
        and 0 <= readiness_hours <= MAX_READINESS_HOURS
    ):
        problems["readiness_hours"] = [f"a whole number of hours from 0 to {MAX_READINESS_HOURS}"]
    if problems:
        raise InvalidInput(
            _(
                "Capacity is at least 1 and readiness a whole number of hours from 0 to "
                "%(max_readiness_hours)s."
            )
            % {"max_readiness_hours": MAX_READINESS_HOURS},
            details={"fields": problems},
        )


def register_standby_asset(
    *,
    by,
    desk: Desk,
    name: str,
    kind: str,
    item: str,
    capacity: int,
    readiness_hours: int,
    location: str = "",
    notes: str = "",
    is_available: bool = True,
) -> StandbyAsset:
    """A member state's desk adds an asset of its state to the standby register.

    Who: a writing member (operator, supervisor, coordinator) of a desk of a member state;
    the asset belongs to that state and is deployed by that desk. The sector and unit come
    from the item's catalogue entry. One transaction; the change is in the admin's history.
    """
    access = access_for(by)
    with transaction.atomic():
        access.require_act_for(desk)
        if desk.state_id is None:
            raise InvalidInput(
                _("A standby asset belongs to a member state's desk."), code="no_state"
            )
        name = (name or "").strip()
        if not name or len(name) > 200:
            raise InvalidInput(
                _("Give the asset a name (at most 200 characters)."),
                details={"fields": {"name": ["1 to 200 characters"]}},
            )
        if kind not in AssetKind.values:
            raise InvalidInput(
                _("Unknown asset kind %(kind)s.") % {"kind": repr(kind)},
                details={"fields": {"kind": [f"one of {sorted(AssetKind.values)}"]}},
            )
        found = ITEMS.get(item)
        if found is None:
            raise InvalidInput(
                _("Unknown item %(item)s: use an item code from the catalogue.")
                % {"item": repr(item)},
                code="unknown_item",
                details={"fields": {"item": [f"unknown item {item!r}"]}},
            )
        _check_counts(capacity=capacity, readiness_hours=readiness_hours)
        if StandbyAsset.objects.filter(state_id=desk.state_id, name=name).exists():
            raise InvalidInput(
                _("Your state's register already has an asset named %(name)s.")
                % {"name": repr(name)},
                code="duplicate",
                details={"fields": {"name": ["already used by your state"]}},
            )
        asset = StandbyAsset.objects.create(
            state_id=desk.state_id,
            desk=desk,
            name=name,
            kind=kind,
            sector=found.sector,
            item=item,
            unit=found.unit,
            capacity=capacity,
            readiness_hours=readiness_hours,
            location=(location or "")[:200],
            notes=notes or "",
            is_available=bool(is_available),
        )
        _log(by, asset, ADDITION, f"Registered by {desk.code}.")
    return asset


def update_standby_asset(
    *,
    by,
    asset_id: int,
    capacity: int | None = None,
    readiness_hours: int | None = None,
    location: str | None = None,
    is_available: bool | None = None,
    notes: str | None = None,
) -> StandbyAsset:
    """A desk of the asset's state changes what it can give and how fast, or whether it is
    available now. Others get 403 (the register is shared: everybody sees it).

    One transaction holding the asset's row lock; the change is in the admin's history.
    """
    access = access_for(by)
    with transaction.atomic():
        if not standby_assets_visible_to(access).filter(pk=asset_id).exists():
            raise NotFound(_("No such standby asset."), details={"asset": asset_id})
        asset = StandbyAsset.objects.select_for_update().get(pk=asset_id)
        desk = desk_acting_for_state(access, asset.state_id, what="edit this standby asset")
        _check_counts(capacity=capacity, readiness_hours=readiness_hours)
        changed = []
        for field, value in (
            ("capacity", capacity),
            ("readiness_hours", readiness_hours),
            ("location", None if location is None else location[:200]),
            ("is_available", None if is_available is None else bool(is_available)),
            ("notes", notes),
        ):
            if value is not None and getattr(asset, field) != value:
                setattr(asset, field, value)
                changed.append(field)
        if changed:
            asset.save(update_fields=[*changed, "updated_at"])
            _log(by, asset, CHANGE, f"Changed {', '.join(changed)} ({desk.code}).")
    return asset
