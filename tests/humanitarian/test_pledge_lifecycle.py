"""Pledge transitions: offered → accepted/declined → dispatched → delivered; withdrawn."""

import pytest

from core.errors import Conflict, InvalidInput, TransitionNotAllowed
from crisis.models import TimelineEntry
from humanitarian.models import Pledge, PledgeStatus, RequestStatus
from humanitarian.services import assistance
from tests.humanitarian.conftest import make_offer, make_pledge, make_request

pytestmark = pytest.mark.django_db

A, B = "operator_a", "operator_b"
# (action, who acts, function)
ACTIONS = {
    "accept": (A, lambda by, p: assistance.accept_pledge(by=by, pledge_id=p.pk)),
    "decline": (A, lambda by, p: assistance.decline_pledge(by=by, pledge_id=p.pk)),
    "withdraw": (B, lambda by, p: assistance.withdraw_pledge(by=by, pledge_id=p.pk)),
    "dispatch": (B, lambda by, p: assistance.dispatch_pledge(by=by, pledge_id=p.pk)),
    "deliver": (
        A,
        lambda by, p: assistance.confirm_delivery(by=by, pledge_id=p.pk, quantity_received=30),
    ),
}
# From each status, the actions that are legal and where they lead.
LEGAL = {
    "offered": {"accept": "accepted", "decline": "declined", "withdraw": "withdrawn"},
    "accepted": {"dispatch": "dispatched", "withdraw": "withdrawn"},
    "dispatched": {"deliver": "delivered"},
    "declined": {},
    "withdrawn": {},
    "delivered": {},
}
PATHS = {
    "offered": [],
    "accepted": ["accept"],
    "dispatched": ["accept", "dispatch"],
    "delivered": ["accept", "dispatch", "deliver"],
    "declined": ["decline"],
    "withdrawn": ["withdraw"],
}


def pledge_in(region, crisis, status):
    req = make_request(region, crisis, quantity=100)
    pledge = make_pledge(region, req, quantity=30)
    for action in PATHS[status]:
        who, fn = ACTIONS[action]
        fn(getattr(region, who), pledge)
    pledge.refresh_from_db()
    assert pledge.status == status
    return pledge


CASES = [(s, a) for s in LEGAL for a in ACTIONS]


@pytest.mark.parametrize(("status", "action"), CASES, ids=[f"{s}-{a}" for s, a in CASES])
def test_transition(region, crisis, status, action):
    pledge = pledge_in(region, crisis, status)
    who, fn = ACTIONS[action]
    before = TimelineEntry.objects.filter(crisis=crisis).count()
    if action in LEGAL[status]:
        fn(getattr(region, who), pledge)
        pledge.refresh_from_db()
        assert pledge.status == LEGAL[status][action]
        last = TimelineEntry.objects.filter(crisis=crisis).order_by("-seq").first()
        assert last.kind.startswith("assistance.pledge_")
        assert last.payload["pledge_id"] == pledge.pk
    else:
        with pytest.raises(TransitionNotAllowed) as exc:
            fn(getattr(region, who), pledge)
        assert exc.value.status == 409 and exc.value.details["status"] == status
        pledge.refresh_from_db()
        assert pledge.status == status
        assert TimelineEntry.objects.filter(crisis=crisis).count() == before


def test_delivery_records_quantity_received(region, crisis):
    pledge = pledge_in(region, crisis, "delivered")
    assert pledge.quantity_received == 30 and pledge.delivered_at
    assert pledge.request.quantity_delivered == 30


def test_partial_acceptance_and_bad_quantity(region, crisis):
    req = make_request(region, crisis, quantity=100)
    pledge = make_pledge(region, req, quantity=30)
    with pytest.raises(InvalidInput):
        assistance.accept_pledge(by=region.operator_a, pledge_id=pledge.pk, quantity=31)
    assistance.accept_pledge(by=region.operator_a, pledge_id=pledge.pk, quantity=20)
    req.refresh_from_db()
    assert req.quantity_accepted == 20


def test_over_commit_refused_unless_surplus_accepted(region, crisis):
    req = make_request(region, crisis, quantity=50)
    big = make_pledge(region, req, quantity=80)
    with pytest.raises(Conflict) as exc:
        assistance.accept_pledge(by=region.operator_a, pledge_id=big.pk)
    assert exc.value.code == "over_commit" and exc.value.details["remaining"] == 50
    assert Pledge.objects.get(pk=big.pk).status == PledgeStatus.OFFERED
    assistance.accept_pledge(by=region.operator_a, pledge_id=big.pk, accept_surplus=True)
    req.refresh_from_db()
    assert (req.quantity_accepted, req.surplus_accepted) == (80, True)
    assert req.status == RequestStatus.FULLY_PLEDGED


def test_state_does_not_pledge_to_its_own_request(region, crisis):
    req = make_request(region, crisis)
    with pytest.raises(InvalidInput) as exc:
        make_pledge(region, req, by=region.supervisor_a, desk=region.desk_a)
    assert exc.value.code == "own_request"


def test_centre_pledges_and_withdraws(region, crisis):
    req = make_request(region, crisis)
    pledge = make_pledge(region, req, by=region.coordinator, desk=region.centre)
    assert pledge.state is None
    assistance.withdraw_pledge(by=region.coordinator, pledge_id=pledge.pk)


def test_standalone_offer_claimed_in_parts(region, crisis):
    offer = make_offer(region, crisis, quantity=300)
    assert offer.request is None and offer.quantity_available == 300
    req = make_request(region, crisis, quantity=120)
    claim = assistance.claim_offer(by=region.operator_a, offer_id=offer.pk, request_id=req.pk)
    offer.refresh_from_db()
    req.refresh_from_db()
    assert claim.status == PledgeStatus.ACCEPTED and claim.quantity_accepted == 120
    assert claim.source_offer == offer and claim.state == region.state_b
    assert offer.quantity_available == 180 and offer.status == PledgeStatus.OFFERED
    assert req.status == RequestStatus.FULLY_PLEDGED
    # Nothing left open: a further claim is an over-commit unless surplus is accepted.
    other = make_request(region, crisis, quantity=10)
    with pytest.raises(Conflict, match="remain to claim"):
        assistance.claim_offer(by=region.operator_a, offer_id=offer.pk, request_id=other.pk,
                               quantity=181)  # fmt: skip
    with pytest.raises(Conflict) as exc:
        assistance.claim_offer(by=region.operator_a, offer_id=offer.pk, request_id=other.pk,
                               quantity=11)  # fmt: skip
    assert exc.value.code == "over_commit"
    assistance.claim_offer(by=region.operator_a, offer_id=offer.pk, request_id=other.pk,
                           quantity=180, accept_surplus=True)  # fmt: skip
    offer.refresh_from_db()
    assert offer.quantity_available == 0 and offer.status == PledgeStatus.ACCEPTED
    with pytest.raises(Conflict):
        assistance.accept_pledge(by=region.operator_a, pledge_id=offer.pk)
