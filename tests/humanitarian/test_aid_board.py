"""The pledge rule the board and the service share, and the board's one read."""

from datetime import date

import pytest

from core.errors import DomainError, NotFound
from directory.access import access_for
from humanitarian.models import Pledge
from humanitarian.rules import may_pledge
from humanitarian.selectors import aid_board
from humanitarian.services import assistance
from humanitarian.services.shelters import update_shelter
from tests.humanitarian.conftest import (
    import_displacement,
    make_asset,
    make_crisis,
    make_pledge,
    make_request,
    make_shelter,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def full(region, crisis):
    """A request whose need is wholly accepted: it takes no new pledges."""
    req = make_request(region, crisis, quantity=10)
    assistance.accept_pledge(
        by=region.operator_a, pledge_id=make_pledge(region, req, quantity=10).pk
    )
    req.refresh_from_db()
    return req


def test_may_pledge_says_no_for_each_reason_without_a_query(
    region, crisis, full, django_assert_num_queries
):
    open_ = make_request(region, crisis)
    draft = make_request(region, crisis, submit=False)
    r = region
    cases = [
        # (who, for which desk, to which request, the refusal's code or None for yes)
        (r.operator_b, None, open_, "no_desk"),
        (r.operator_c, r.desk_b, open_, "not_found"),  # not on B's desk
        (r.auditor, r.centre, open_, "permission_denied"),  # read-only on the centre
        (r.supervisor_a, r.desk_a, open_, "own_request"),
        (r.operator_b, r.desk_b, full, "transition_not_allowed"),
        (r.operator_b, r.desk_b, draft, "transition_not_allowed"),
        (r.operator_b, r.desk_b, open_, None),
        (r.coordinator, r.centre, open_, None),  # the centre pledges to anyone
    ]
    accesses = {user: access_for(user) for user, *_ in cases}
    with django_assert_num_queries(0):
        answers = [may_pledge(accesses[user], desk, req) for user, desk, req, _ in cases]
    for (user, _desk, req, code), answer in zip(cases, answers, strict=True):
        if code is None:
            assert answer and answer.refusal is None, (user.username, req.status)
        else:
            assert not answer and answer.refusal.code == code, (user.username, answer)
    no = answers[4].refusal
    assert no.status == 409 and no.details["status"] == "fully_pledged"


@pytest.mark.parametrize(
    ("user", "desk", "code"),
    [
        ("auditor", "centre", "permission_denied"),
        ("supervisor_a", "desk_a", "own_request"),
        ("operator_b", "desk_b", None),
    ],
)
def test_make_pledge_refuses_exactly_when_may_pledge_says_no(region, crisis, user, desk, code):
    req = make_request(region, crisis)
    person, desk = getattr(region, user), getattr(region, desk)
    answer = may_pledge(access_for(person), desk, req)
    if code is None:
        assert answer
        make_pledge(region, req, by=person, desk=desk)
        assert Pledge.objects.filter(request=req, pledging_desk=desk).exists()
        return
    with pytest.raises(DomainError) as exc:
        make_pledge(region, req, by=person, desk=desk)
    assert exc.value.code == answer.refusal.code == code
    assert not Pledge.objects.exists()


def test_make_pledge_refuses_a_full_request_as_the_rule_says(region, crisis, full):
    answer = may_pledge(access_for(region.operator_b), region.desk_b, full)
    with pytest.raises(DomainError) as exc:
        make_pledge(region, full, quantity=1)
    assert (exc.value.code, exc.value.message) == (answer.refusal.code, answer.refusal.message)


def populate(region, crisis, n, start=0):
    for i in range(start, start + n):
        req = make_request(region, crisis, quantity=10 + i, sector="sar", item="usar_team")
        make_pledge(region, req, quantity=1)
        make_pledge(region, req, quantity=1, by=region.coordinator, desk=region.centre)
        make_asset(region.state_b, region.desk_b, f"B team {i}")
        make_asset(region.state_c, region.desk_c, f"C team {i}")
        shelter = make_shelter(region, crisis, name=f"School {i}")
        update_shelter(by=region.operator_a, shelter_id=shelter.pk, population=i + 1)


def test_aid_board_for_the_requesting_state_another_state_and_the_coordinator(
    region, crisis, django_assert_max_num_queries
):
    populate(region, crisis, 1)
    make_request(region, crisis, submit=False)  # a draft is never on the board
    job = import_displacement(region, crisis)
    a, b, centre = (access_for(u) for u in (region.operator_a, region.operator_b,
                                             region.coordinator))  # fmt: skip

    mine = aid_board(a, desk=region.desk_a, crisis_id=crisis.pk, import_job_id=job.pk)
    (row,) = mine.rows
    assert row.is_mine and not row.can_pledge and row.suggestions == []
    assert len(row.pledges) == 2 and (mine.can_write, mine.may_request) == (True, True)
    assert mine.job == job
    # Totals are of the last reporting date only (one area on 2025-11-21).
    assert mine.displacement_latest == date(2025, 11, 21)
    assert mine.displacement_totals == {"idps": 2500, "refugees": 40, "areas": 1}
    assert len(mine.displacement_reports) == 3 and len(mine.shelters) == 1

    other = aid_board(b, desk=region.desk_b, crisis_id=crisis.pk, import_job_id=job.pk)
    (row,) = other.rows
    assert not row.is_mine and row.can_pledge
    # Suggestions are other states' assets, never the requesting state's, at most three.
    assert [s.asset.name for s in row.suggestions] == ["B team 0", "C team 0"]
    assert (other.can_write, other.may_request) == (True, False)
    assert other.job is None  # A's import is not B's to follow

    coordinated = aid_board(centre, desk=region.centre, crisis_id=crisis.pk)
    (row,) = coordinated.rows
    assert not row.is_mine and row.can_pledge and len(row.suggestions) == 2
    assert (coordinated.can_write, coordinated.may_request) == (True, False)

    with pytest.raises(NotFound):
        aid_board(access_for(region.operator_c), desk=region.desk_c, crisis_id=crisis.pk)
    elsewhere = make_crisis(region, ref="CR-2026-0300", supporting=[])
    with pytest.raises(NotFound):
        aid_board(b, desk=region.desk_b, crisis_id=elsewhere.pk)

    # The number of queries does not grow with requests, pledges, assets or shelters.
    populate(region, crisis, 4, start=1)
    for access, desk in [(a, region.desk_a), (b, region.desk_b), (centre, region.centre)]:
        with django_assert_max_num_queries(11):
            board = aid_board(access, desk=desk, crisis_id=crisis.pk, import_job_id=job.pk)
        assert len(board.rows) == 5
        assert all(len(r.suggestions) == (3 if r.can_pledge else 0) for r in board.rows)
