"""Two acceptances of the last remaining need at the same moment, on real connections.

Each thread has its own PostgreSQL connection (Django connections are per thread). Both
wait at a barrier, then accept a pledge that would fill what is left: the request's row
lock serialises them, one commits, the other is refused with ``over_commit``.
"""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from core.errors import Conflict
from crisis.models import TimelineEntry
from directory.models import DeskMembership, Role
from humanitarian.models import AssistanceRequest, Pledge, PledgeStatus, RequestStatus
from humanitarian.services import assistance
from tests.factories import make_person
from tests.humanitarian.conftest import make_crisis, make_offer, make_pledge, make_request

pytestmark = pytest.mark.django_db(transaction=True)


def run_concurrently(*calls, timeout=20):
    barrier = threading.Barrier(len(calls), timeout=timeout)
    results = [None] * len(calls)

    def worker(i, fn):
        try:
            barrier.wait()
            results[i] = ("ok", fn())
        except Exception as exc:
            results[i] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a thread is stuck"
    return results


def test_two_acceptances_of_the_last_need_one_wins(region):
    crisis = make_crisis(region, supporting=[region.desk_b, region.desk_c])
    req = make_request(region, crisis, quantity=100)
    assistance.accept_pledge(
        by=region.operator_a, pledge_id=make_pledge(region, req, quantity=60).pk
    )
    from_b = make_pledge(region, req, quantity=40)
    from_c = make_pledge(region, req, quantity=40, by=region.operator_c, desk=region.desk_c)
    # Two people of state A decide at the same moment, each on their own connection.
    results = run_concurrently(
        lambda: assistance.accept_pledge(by=region.operator_a, pledge_id=from_b.pk),
        lambda: assistance.accept_pledge(by=region.supervisor_a, pledge_id=from_c.pk),
    )
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    refusal = next(value for kind, value in results if kind == "error")
    assert isinstance(refusal, Conflict) and refusal.code == "over_commit"
    assert refusal.status == 409 and refusal.details["remaining"] == 0

    req.refresh_from_db()
    assert (req.quantity_accepted, req.status) == (100, RequestStatus.FULLY_PLEDGED)
    statuses = sorted(
        Pledge.objects.filter(pk__in=[from_b.pk, from_c.pk]).values_list("status", flat=True)
    )
    assert statuses == [PledgeStatus.ACCEPTED, PledgeStatus.OFFERED]
    accepted = TimelineEntry.objects.filter(crisis=crisis, kind="assistance.pledge_accepted")
    assert accepted.count() == 2  # the first 60 and the race's winner


def test_two_claims_of_one_standalone_offer_never_exceed_it(region):
    crisis = make_crisis(region, affected=[region.state_a, region.state_c])
    offer = make_offer(region, crisis, sector="food", item="rice", quantity=10)
    req_a = make_request(region, crisis, quantity=10, sector="food", item="rice")
    desk_c_person = make_person(region.desk_c, Role.SUPERVISOR, username="sup-c")
    assert DeskMembership.objects.filter(user=desk_c_person).exists()
    req_c = assistance.create_request(
        by=desk_c_person, desk=region.desk_c, crisis=crisis, sector="food", item="rice",
        quantity=10, needed_by=req_a.needed_by, submit=True,
    )  # fmt: skip
    results = run_concurrently(
        lambda: assistance.claim_offer(
            by=region.operator_a, offer_id=offer.pk, request_id=req_a.pk, quantity=7
        ),
        lambda: assistance.claim_offer(
            by=desk_c_person, offer_id=offer.pk, request_id=req_c.pk, quantity=7
        ),
    )
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    refusal = next(value for kind, value in results if kind == "error")
    assert isinstance(refusal, Conflict) and refusal.code == "offer_exhausted"
    offer.refresh_from_db()
    assert offer.quantity_available == 3
    claimed = sum(AssistanceRequest.objects.values_list("quantity_accepted", flat=True))
    assert claimed == 7
    assert connection.vendor == "postgresql"


def test_second_acceptance_waits_for_the_first_then_is_refused(region):
    """A fixed interleaving: A accepts and holds its transaction open; B's acceptance is
    seen waiting on the row lock in PostgreSQL; when A commits, B is refused."""
    crisis = make_crisis(region, supporting=[region.desk_b, region.desk_c])
    req = make_request(region, crisis, quantity=10)
    from_b = make_pledge(region, req, quantity=10)
    from_c = make_pledge(region, req, quantity=10, by=region.operator_c, desk=region.desk_c)
    accepted, release = threading.Event(), threading.Event()
    outcome = {}

    def first():
        try:
            with transaction.atomic():
                assistance.accept_pledge(by=region.operator_a, pledge_id=from_b.pk)
                accepted.set()
                assert release.wait(20)
        finally:
            connections.close_all()

    def second():
        try:
            assert accepted.wait(20)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            assistance.accept_pledge(by=region.supervisor_a, pledge_id=from_c.pk)
            outcome["result"] = "accepted"
        except Conflict as exc:
            outcome["result"] = exc.code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    try:
        assert accepted.wait(20)

        def second_is_waiting_on_a_lock():
            pid = outcome.get("pid")
            if pid is None:
                return False
            with connection.cursor() as cursor:
                cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
                row = cursor.fetchone()
            return bool(row) and row[0] == "Lock"

        deadline = time.monotonic() + 20
        while not second_is_waiting_on_a_lock():
            assert time.monotonic() < deadline, "the second acceptance never waited on the lock"
            time.sleep(0.05)
        assert "result" not in outcome
    finally:
        release.set()
        for t in threads:
            t.join(20)
    assert outcome["result"] == "over_commit"
    req.refresh_from_db()
    assert req.quantity_accepted == 10
