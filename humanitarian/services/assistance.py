"""Requests for assistance and pledges: the EDXL-RM message flow as state changes.

Every function is one transaction: it checks who is asking and what state the records
are in, writes, appends to the crisis timeline and announces after commit. Anything that
changes how much of a request is committed runs holding the request's row lock
(``SELECT … FOR UPDATE``, always taken before the pledge's lock), so two acceptances of
the last remaining need are serialised: the first commits, the second sees nothing left
and is refused with ``over_commit`` (409).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, InvalidInput, NotFound
from crisis.models import Crisis
from crisis.services import timeline
from directory.access import access_for
from directory.models import Desk
from humanitarian.models import (
    LIVE_REQUEST_STATUSES,
    AssistanceRequest,
    Pledge,
    PledgeStatus,
    Priority,
    RequestStatus,
)
from humanitarian.rules import may_pledge, status_refusal
from humanitarian.selectors import pledges_visible_to, requests_visible_to, visible_crisis
from humanitarian.services._common import (
    announce,
    check_item,
    desk_acting_for_state,
    require_working_crisis,
)

# --- helpers ------------------------------------------------------------------------------


def _lock_request(access, request_id: int) -> AssistanceRequest:
    """Lock and return a request the caller may see (404 otherwise)."""
    if not requests_visible_to(access).filter(pk=request_id).exists():
        raise NotFound(_("No such assistance request."), details={"request": request_id})
    return (
        AssistanceRequest.objects.select_for_update(of=("self",))
        .select_related("crisis", "state")
        .get(pk=request_id)
    )


def _visible_pledge(access, pledge_id: int) -> Pledge:
    pledge = pledges_visible_to(access).filter(pk=pledge_id).first()
    if pledge is None:
        raise NotFound(_("No such pledge."), details={"pledge": pledge_id})
    return pledge


def _lock_pledge(pledge_id: int) -> Pledge:
    return (
        Pledge.objects.select_for_update(of=("self",))
        .select_related("crisis", "pledging_desk", "state")
        .get(pk=pledge_id)
    )


def _require_status(obj, allowed: set[str], action: str) -> None:
    refusal = status_refusal(obj, allowed, action)
    if refusal is not None:
        raise refusal


def _refresh_request_status(req: AssistanceRequest) -> None:
    """Open / partially / fully pledged follow the accepted quantity (live requests only)."""
    if req.status not in LIVE_REQUEST_STATUSES:
        return
    if req.quantity_accepted <= 0:
        req.status = RequestStatus.OPEN
    elif req.quantity_accepted >= req.quantity:
        req.status = RequestStatus.FULLY_PLEDGED
    else:
        req.status = RequestStatus.PARTIALLY_PLEDGED


def _request_payload(req: AssistanceRequest, **extra) -> dict:
    return {
        "request": req.reference,
        "request_id": req.pk,
        "state": req.state.code,
        "sector": req.sector,
        "item": req.item,
        "unit": req.unit,
        "quantity": req.quantity,
        "quantity_accepted": req.quantity_accepted,
        "status": req.status,
        **extra,
    }


def _pledge_payload(pledge: Pledge, **extra) -> dict:
    return {
        "pledge": pledge.reference,
        "pledge_id": pledge.pk,
        "request_id": pledge.request_id,
        "pledging_desk": pledge.pledging_desk.code,
        "item": pledge.item,
        "unit": pledge.unit,
        "quantity": pledge.quantity,
        "quantity_accepted": pledge.quantity_accepted,
        "status": pledge.status,
        **extra,
    }


def _record_request(req: AssistanceRequest, kind: str, *, by, desk: Desk, **extra) -> None:
    timeline.record(
        kind=f"assistance.{kind}",
        crisis=req.crisis,
        actor=by,
        desk=desk,
        payload=_request_payload(req, **extra),
    )
    announce(
        req.crisis,
        {"type": f"assistance.{kind}", "request_id": req.pk, "status": req.status},
        req.requesting_desk_id,
    )


def _record_pledge(pledge: Pledge, kind: str, *, by, desk: Desk, **extra) -> None:
    timeline.record(
        kind=f"assistance.{kind}",
        crisis=pledge.crisis,
        actor=by,
        desk=desk,
        payload=_pledge_payload(pledge, **extra),
    )
    requesting = pledge.request.requesting_desk_id if pledge.request_id else None
    announce(
        pledge.crisis,
        {
            "type": f"assistance.{kind}",
            "pledge_id": pledge.pk,
            "request_id": pledge.request_id,
            "status": pledge.status,
        },
        pledge.pledging_desk_id,
        requesting,
    )


def _over_commit(req: AssistanceRequest, quantity: int) -> Conflict:
    remaining = req.quantity_remaining
    return Conflict(
        f"Only {remaining} {req.unit} of {req.reference} remain open; accepting {quantity} "
        "would over-commit it. Accept part of the pledge, or accept the surplus explicitly.",
        code="over_commit",
        details={"remaining": remaining, "quantity": quantity, "request": req.pk},
    )


def _lock_for_requester(access, pledge_id: int, *, what: str) -> tuple:
    """Lock the request then the pledge (always in that order); return them with the
    caller's desk for the requesting state. Standalone offers have no requester side."""
    seen = _visible_pledge(access, pledge_id)
    if seen.request_id is None:
        raise Conflict(
            _("This is a standalone offer: claim it against one of your requests."),
            code="standalone_offer",
        )
    req = _lock_request(access, seen.request_id)
    pledge = _lock_pledge(pledge_id)
    desk = desk_acting_for_state(access, req.state_id, what=what)
    pledge.request = req
    return req, pledge, desk


def _commit_quantity(req: AssistanceRequest, quantity: int, *, accept_surplus: bool) -> bool:
    """Add ``quantity`` to what the request has accepted. Called holding its row lock.

    Refuses with ``over_commit`` if that exceeds what is open and no surplus was asked
    for; returns whether it is a surplus.
    """
    surplus = quantity > req.quantity_remaining
    if surplus and not accept_surplus:
        raise _over_commit(req, quantity)
    req.quantity_accepted += quantity
    req.surplus_accepted = req.surplus_accepted or surplus
    _refresh_request_status(req)
    req.save(update_fields=["quantity_accepted", "surplus_accepted", "status", "updated_at"])
    return surplus


def _require_positive(quantity: int | None, field: str = "quantity") -> None:
    if quantity is None or quantity < 1:
        raise InvalidInput(
            _("%(field)s must be at least 1.") % {"field": field.replace("_", " ").capitalize()},
            details={"fields": {field: ["min 1"]}},
        )


# --- requests (EDXL-RM RequestResource) ---------------------------------------------------


def create_request(
    *,
    by,
    desk: Desk,
    crisis: Crisis,
    sector: str,
    item: str,
    quantity: int,
    needed_by: datetime,
    priority: str = Priority.NORMAL,
    location: str = "",
    admin1_code: str = "",
    admin1_name: str = "",
    notes: str = "",
    submit: bool = False,
) -> AssistanceRequest:
    """An affected state's desk writes a request (a draft, or open at once with ``submit``)."""
    access = access_for(by)
    with transaction.atomic():
        crisis = visible_crisis(access, crisis.pk)
        access.require_act_for(desk)
        if desk.state_id is None or not crisis.affected_states.filter(pk=desk.state_id).exists():
            raise InvalidInput(
                _("Only a desk of a state affected by the crisis may request assistance."),
                code="not_affected",
                details={"desk": desk.code, "crisis": crisis.reference},
            )
        require_working_crisis(crisis)
        unit = check_item(sector=sector, item=item)
        _require_positive(quantity)
        now = timezone.now()
        req = AssistanceRequest.objects.create(
            crisis=crisis,
            state=desk.state,
            requesting_desk=desk,
            created_by=by,
            sector=sector,
            item=item,
            unit=unit,
            quantity=quantity,
            needed_by=needed_by,
            priority=priority,
            location=location,
            admin1_code=admin1_code,
            admin1_name=admin1_name,
            notes=notes,
            status=RequestStatus.OPEN if submit else RequestStatus.DRAFT,
            opened_at=now if submit else None,
        )
        _record_request(req, "request_opened" if submit else "request_drafted", by=by, desk=desk)
    return req


def open_request(*, by, request_id: int) -> AssistanceRequest:
    """Publish a draft: other states can now see it and pledge."""
    access = access_for(by)
    with transaction.atomic():
        req = _lock_request(access, request_id)
        desk = desk_acting_for_state(access, req.state_id, what="open this request")
        _require_status(req, {RequestStatus.DRAFT}, "open")
        require_working_crisis(req.crisis)
        req.status = RequestStatus.OPEN
        req.opened_at = timezone.now()
        req.save(update_fields=["status", "opened_at", "updated_at"])
        _record_request(req, "request_opened", by=by, desk=desk)
    return req


def _finish_request(*, by, request_id: int, status: str, reason: str) -> AssistanceRequest:
    access = access_for(by)
    verb = "close" if status == RequestStatus.CLOSED else "cancel"
    with transaction.atomic():
        req = _lock_request(access, request_id)
        desk = desk_acting_for_state(access, req.state_id, what=f"{verb} this request")
        allowed = set(LIVE_REQUEST_STATUSES)
        if status == RequestStatus.CANCELLED:
            allowed.add(RequestStatus.DRAFT)
        _require_status(req, allowed, verb)
        # Offers still waiting for an answer are declined with the request.
        waiting = list(
            Pledge.objects.select_for_update().filter(request=req, status=PledgeStatus.OFFERED)
        )
        now = timezone.now()
        for pledge in waiting:
            pledge.status = PledgeStatus.DECLINED
            pledge.closed_at = now
            pledge.reason = "Request cancelled" if verb == "cancel" else "Request closed"
            pledge.decided_by = by
            pledge.save(update_fields=["status", "closed_at", "reason", "decided_by", "updated_at"])
        req.status = status
        req.closed_at = now
        req.save(update_fields=["status", "closed_at", "updated_at"])
        _record_request(
            req,
            "request_closed" if verb == "close" else "request_cancelled",
            by=by,
            desk=desk,
            reason=reason,
            declined_pledges=[p.pk for p in waiting],
        )
    return req


def close_request(*, by, request_id: int, reason: str = "") -> AssistanceRequest:
    """The requester closes a live request (need met or no longer relevant)."""
    return _finish_request(by=by, request_id=request_id, status=RequestStatus.CLOSED, reason=reason)


def cancel_request(*, by, request_id: int, reason: str = "") -> AssistanceRequest:
    """The requester cancels a draft or live request; waiting offers are declined."""
    return _finish_request(
        by=by, request_id=request_id, status=RequestStatus.CANCELLED, reason=reason
    )


# --- pledges (ResponseToRequestResource / OfferUnsolicitedResource) -----------------------


def make_pledge(
    *,
    by,
    desk: Desk,
    request_id: int,
    quantity: int,
    eta: datetime | None = None,
    conditions: str = "",
    source_asset=None,
) -> Pledge:
    """Another state's desk (or the centre) offers ``quantity`` against a request.

    Refused for the reasons of :func:`humanitarian.rules.may_pledge`, asked holding the
    request's row lock; then for a quantity below 1.
    """
    access = access_for(by)
    with transaction.atomic():
        req = _lock_request(access, request_id)
        may_pledge(access, desk, req).or_raise()
        _require_positive(quantity)
        pledge = Pledge.objects.create(
            crisis=req.crisis,
            request=req,
            pledging_desk=desk,
            state=desk.state,
            created_by=by,
            sector=req.sector,
            item=req.item,
            unit=req.unit,
            quantity=quantity,
            eta=eta,
            conditions=conditions,
            source_asset=source_asset,
        )
        _record_pledge(
            pledge,
            "pledge_offered",
            by=by,
            desk=desk,
            standby_asset=source_asset.pk if source_asset else None,
        )
    return pledge


def offer_capacity(
    *,
    by,
    desk: Desk,
    crisis: Crisis,
    sector: str,
    item: str,
    quantity: int,
    eta: datetime | None = None,
    conditions: str = "",
) -> Pledge:
    """A standalone (unsolicited) offer of capacity for a crisis, claimable by requesters."""
    access = access_for(by)
    with transaction.atomic():
        crisis = visible_crisis(access, crisis.pk)
        access.require_act_for(desk)
        require_working_crisis(crisis)
        unit = check_item(sector=sector, item=item)
        _require_positive(quantity)
        pledge = Pledge.objects.create(
            crisis=crisis,
            pledging_desk=desk,
            state=desk.state,
            created_by=by,
            sector=sector,
            item=item,
            unit=unit,
            quantity=quantity,
            quantity_available=quantity,
            eta=eta,
            conditions=conditions,
        )
        _record_pledge(pledge, "capacity_offered", by=by, desk=desk)
    return pledge


def accept_pledge(
    *, by, pledge_id: int, quantity: int | None = None, accept_surplus: bool = False
) -> Pledge:
    """The requester accepts a pledge (EDXL-RM CommitResource), all of it or ``quantity``.

    Never over-commits: if the accepted quantity would exceed what is still open, refuse
    with ``over_commit`` (409) unless ``accept_surplus`` says the requester wants it.
    """
    access = access_for(by)
    with transaction.atomic():
        req, pledge, desk = _lock_for_requester(
            access, pledge_id, what="accept pledges to this request"
        )
        _require_status(pledge, {PledgeStatus.OFFERED}, "accept")
        _require_status(req, set(LIVE_REQUEST_STATUSES), "accept pledges to")
        qty = pledge.quantity if quantity is None else quantity
        if not 1 <= qty <= pledge.quantity:
            raise InvalidInput(
                _("Accept between 1 and the %(pledge_quantity)s %(pledge_unit)s pledged.")
                % {"pledge_quantity": pledge.quantity, "pledge_unit": pledge.unit},
                details={"fields": {"quantity": [f"1..{pledge.quantity}"]}},
            )
        surplus = _commit_quantity(req, qty, accept_surplus=accept_surplus)
        pledge.status = PledgeStatus.ACCEPTED
        pledge.quantity_accepted = qty
        pledge.accepted_at = timezone.now()
        pledge.decided_by = by
        pledge.save(
            update_fields=[
                "status",
                "quantity_accepted",
                "accepted_at",
                "decided_by",
                "updated_at",
            ]
        )
        _record_pledge(pledge, "pledge_accepted", by=by, desk=desk, surplus=surplus)
    return pledge


def claim_offer(
    *,
    by,
    offer_id: int,
    request_id: int,
    quantity: int | None = None,
    accept_surplus: bool = False,
) -> Pledge:
    """A requester claims (part of) a standalone offer for one of its requests.

    Creates an accepted pledge against the request and lowers the offer's available
    quantity; the same over-commit rule as :func:`accept_pledge` applies.
    """
    access = access_for(by)
    with transaction.atomic():
        _visible_pledge(access, offer_id)
        req = _lock_request(access, request_id)
        offer = _lock_pledge(offer_id)
        desk = desk_acting_for_state(access, req.state_id, what="claim offers for this request")
        if offer.request_id is not None:
            raise Conflict(_("Only a standalone offer can be claimed."), code="not_standalone")
        _require_status(offer, {PledgeStatus.OFFERED}, "claim")
        _require_status(req, set(LIVE_REQUEST_STATUSES), "claim offers for")
        if offer.crisis_id != req.crisis_id or offer.item != req.item:
            raise InvalidInput(
                _("The offer is for another crisis or item than the request."),
                code="offer_mismatch",
                details={"offer_item": offer.item, "request_item": req.item},
            )
        if offer.state_id is not None and offer.state_id == req.state_id:
            raise InvalidInput(_("A state does not claim its own offer."), code="own_request")
        qty = (
            min(offer.quantity_available, req.quantity_remaining) if quantity is None else quantity
        )
        if qty < 1:
            raise InvalidInput(_("Claim at least 1."), details={"fields": {"quantity": ["min 1"]}})
        if qty > offer.quantity_available:
            raise Conflict(
                _("Only %(offer_quantity_available)s %(offer_unit)s of this offer remain to claim.")
                % {"offer_quantity_available": offer.quantity_available, "offer_unit": offer.unit},
                code="offer_exhausted",
                details={"available": offer.quantity_available, "quantity": qty},
            )
        _commit_quantity(req, qty, accept_surplus=accept_surplus)
        now = timezone.now()
        pledge = Pledge.objects.create(
            crisis=req.crisis,
            request=req,
            pledging_desk=offer.pledging_desk,
            state=offer.state,
            created_by=offer.created_by,
            sector=offer.sector,
            item=offer.item,
            unit=offer.unit,
            quantity=qty,
            quantity_accepted=qty,
            eta=offer.eta,
            conditions=offer.conditions,
            status=PledgeStatus.ACCEPTED,
            source_offer=offer,
            decided_by=by,
            accepted_at=now,
        )
        offer.quantity_available -= qty
        if offer.quantity_available == 0:
            offer.status = PledgeStatus.ACCEPTED
            offer.accepted_at = now
        offer.save(update_fields=["quantity_available", "status", "accepted_at", "updated_at"])
        _record_pledge(pledge, "offer_claimed", by=by, desk=desk, offer_id=offer.pk)
    return pledge


def decline_pledge(*, by, pledge_id: int, reason: str = "") -> Pledge:
    """The requester declines an offered pledge."""
    access = access_for(by)
    with transaction.atomic():
        _req, pledge, desk = _lock_for_requester(
            access, pledge_id, what="decline pledges to this request"
        )
        _require_status(pledge, {PledgeStatus.OFFERED}, "decline")
        pledge.status = PledgeStatus.DECLINED
        pledge.closed_at = timezone.now()
        pledge.decided_by = by
        pledge.reason = reason
        pledge.save(update_fields=["status", "closed_at", "decided_by", "reason", "updated_at"])
        _record_pledge(pledge, "pledge_declined", by=by, desk=desk, reason=reason)
    return pledge


def withdraw_pledge(*, by, pledge_id: int, reason: str = "") -> Pledge:
    """The pledging state withdraws an offered or accepted pledge (not once dispatched).

    Withdrawing an accepted pledge gives its quantity back to the request.
    """
    access = access_for(by)
    with transaction.atomic():
        seen = _visible_pledge(access, pledge_id)
        req = _lock_request(access, seen.request_id) if seen.request_id else None
        pledge = _lock_pledge(pledge_id)
        desk = desk_acting_for_state(access, pledge.state_id, what="withdraw this pledge")
        _require_status(pledge, {PledgeStatus.OFFERED, PledgeStatus.ACCEPTED}, "withdraw")
        if pledge.status == PledgeStatus.ACCEPTED and req is not None:
            req.quantity_accepted -= pledge.quantity_accepted
            _refresh_request_status(req)
            req.save(update_fields=["quantity_accepted", "status", "updated_at"])
        pledge.status = PledgeStatus.WITHDRAWN
        pledge.closed_at = timezone.now()
        pledge.reason = reason
        pledge.save(update_fields=["status", "closed_at", "reason", "updated_at"])
        if req is not None:
            pledge.request = req
        _record_pledge(pledge, "pledge_withdrawn", by=by, desk=desk, reason=reason)
    return pledge


def dispatch_pledge(*, by, pledge_id: int, eta: datetime | None = None) -> Pledge:
    """The pledging state sends an accepted pledge on its way (EDXL-RM ReleaseResource)."""
    access = access_for(by)
    with transaction.atomic():
        seen = _visible_pledge(access, pledge_id)
        pledge = _lock_pledge(seen.pk)
        desk = desk_acting_for_state(access, pledge.state_id, what="dispatch this pledge")
        _require_status(pledge, {PledgeStatus.ACCEPTED}, "dispatch")
        if pledge.request_id is None:
            raise Conflict(
                _("A standalone offer is dispatched through its claims."), code="standalone"
            )
        pledge.status = PledgeStatus.DISPATCHED
        pledge.dispatched_at = timezone.now()
        if eta is not None:
            pledge.eta = eta
        pledge.save(update_fields=["status", "dispatched_at", "eta", "updated_at"])
        _record_pledge(pledge, "pledge_dispatched", by=by, desk=desk, eta=pledge.eta)
    return pledge


def confirm_delivery(*, by, pledge_id: int, quantity_received: int, notes: str = "") -> Pledge:
    """The requester confirms receipt, with the quantity actually received
    (EDXL-RM ReportResourceDeploymentStatus)."""
    access = access_for(by)
    with transaction.atomic():
        req, pledge, desk = _lock_for_requester(access, pledge_id, what="confirm deliveries")
        _require_status(pledge, {PledgeStatus.DISPATCHED}, "confirm delivery of")
        if quantity_received is None or quantity_received < 0:
            raise InvalidInput(
                _("Say how much was received (0 or more)."),
                details={"fields": {"quantity_received": ["0 or more"]}},
            )
        pledge.status = PledgeStatus.DELIVERED
        pledge.quantity_received = quantity_received
        pledge.delivered_at = timezone.now()
        pledge.save(update_fields=["status", "quantity_received", "delivered_at", "updated_at"])
        req.quantity_delivered += quantity_received
        req.save(update_fields=["quantity_delivered", "updated_at"])
        _record_pledge(
            pledge,
            "pledge_delivered",
            by=by,
            desk=desk,
            quantity_received=quantity_received,
            notes=notes,
        )
    return pledge
