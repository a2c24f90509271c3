"""Assistance request transitions: draft → open → partially/fully pledged → closed/cancelled."""

import pytest

from core.errors import InvalidInput, TransitionNotAllowed
from crisis.models import TimelineEntry
from crisis.services.timeline import verify_all
from humanitarian.models import AssistanceRequest, PledgeStatus, RequestStatus
from humanitarian.services import assistance
from tests.humanitarian.conftest import make_crisis, make_pledge, make_request

pytestmark = pytest.mark.django_db


def kinds(crisis):
    return list(TimelineEntry.objects.filter(crisis=crisis).values_list("kind", flat=True))


def test_draft_open_partially_fully_closed(region, crisis):
    req = make_request(region, crisis, submit=False, quantity=100)
    assert req.status == RequestStatus.DRAFT and req.unit == "piece"
    req = assistance.open_request(by=region.operator_a, request_id=req.pk)
    assert req.status == RequestStatus.OPEN

    first = make_pledge(region, req, quantity=40)
    assistance.accept_pledge(by=region.operator_a, pledge_id=first.pk)
    req.refresh_from_db()
    assert (req.status, req.quantity_accepted) == (RequestStatus.PARTIALLY_PLEDGED, 40)

    second = make_pledge(region, req, quantity=60)
    assistance.accept_pledge(by=region.supervisor_a, pledge_id=second.pk)
    req.refresh_from_db()
    assert (req.status, req.quantity_accepted) == (RequestStatus.FULLY_PLEDGED, 100)

    req = assistance.close_request(by=region.operator_a, request_id=req.pk, reason="met")
    assert req.status == RequestStatus.CLOSED and req.closed_at
    assert kinds(crisis) == [
        "assistance.request_drafted",
        "assistance.request_opened",
        "assistance.pledge_offered",
        "assistance.pledge_accepted",
        "assistance.pledge_offered",
        "assistance.pledge_accepted",
        "assistance.request_closed",
    ]
    assert verify_all() == []


def test_withdrawing_an_accepted_pledge_reopens_the_need(region, crisis):
    req = make_request(region, crisis, quantity=50)
    pledge = make_pledge(region, req, quantity=50)
    assistance.accept_pledge(by=region.operator_a, pledge_id=pledge.pk)
    assistance.withdraw_pledge(by=region.operator_b, pledge_id=pledge.pk, reason="ship broke down")
    req.refresh_from_db()
    assert (req.status, req.quantity_accepted) == (RequestStatus.OPEN, 0)


def test_cancel_declines_waiting_offers(region, crisis):
    req = make_request(region, crisis)
    waiting = make_pledge(region, req)
    assistance.cancel_request(by=region.operator_a, request_id=req.pk, reason="duplicate")
    waiting.refresh_from_db()
    req.refresh_from_db()
    assert req.status == RequestStatus.CANCELLED
    assert waiting.status == PledgeStatus.DECLINED


def test_draft_can_be_cancelled_but_not_closed(region, crisis):
    req = make_request(region, crisis, submit=False)
    with pytest.raises(TransitionNotAllowed):
        assistance.close_request(by=region.operator_a, request_id=req.pk)
    assistance.cancel_request(by=region.operator_a, request_id=req.pk)


@pytest.mark.parametrize("final", ["close", "cancel"])
def test_finished_requests_accept_nothing(region, crisis, final):
    req = make_request(region, crisis)
    getattr(assistance, f"{final}_request")(by=region.operator_a, request_id=req.pk)
    for action in (
        lambda: assistance.open_request(by=region.operator_a, request_id=req.pk),
        lambda: assistance.close_request(by=region.operator_a, request_id=req.pk),
        lambda: assistance.cancel_request(by=region.operator_a, request_id=req.pk),
        lambda: make_pledge(region, req),
    ):
        with pytest.raises(TransitionNotAllowed):
            action()


def test_open_twice_is_refused(region, crisis):
    req = make_request(region, crisis)
    with pytest.raises(TransitionNotAllowed) as exc:
        assistance.open_request(by=region.operator_a, request_id=req.pk)
    assert exc.value.details["status"] == "open"


def test_fully_pledged_takes_no_new_offers(region, crisis):
    req = make_request(region, crisis, quantity=10)
    assistance.accept_pledge(
        by=region.operator_a, pledge_id=make_pledge(region, req, quantity=10).pk
    )
    with pytest.raises(TransitionNotAllowed):
        make_pledge(region, req, quantity=5)


def test_bad_requests_write_nothing(region, crisis):
    with pytest.raises(InvalidInput) as exc:
        make_request(region, crisis, sector="food", item="family_tent")
    assert exc.value.code == "item_not_in_sector"
    with pytest.raises(InvalidInput):
        make_request(region, crisis, item="unicorn")
    with pytest.raises(InvalidInput):
        make_request(region, crisis, quantity=0)
    # State B is party but not affected: it may not request.
    from humanitarian.services.assistance import create_request

    with pytest.raises(InvalidInput) as exc:
        create_request(by=region.operator_b, desk=region.desk_b, crisis=crisis, sector="food",
                       item="rice", quantity=3, needed_by=crisis.reported_at)  # fmt: skip
    assert exc.value.code == "not_affected"
    assert not AssistanceRequest.objects.exists()
    assert kinds(crisis) == []


def test_closed_crisis_takes_no_requests(region):
    crisis = make_crisis(region, status="closed")
    with pytest.raises(TransitionNotAllowed) as exc:
        make_request(region, crisis)
    assert exc.value.code == "crisis_not_working"
