"""Gap analysis on a known scenario."""

from datetime import timedelta

import pytest
from django.utils import timezone

from humanitarian.services import assistance
from humanitarian.services.gaps import gap_figures
from tests.humanitarian.conftest import API, make_offer, make_pledge, make_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def known(region, crisis):
    """Shelter: tents 100 (60 accepted, 50 delivered, +10 offered), tarpaulins 200
    (nothing pledged, overdue). Food: rice 20 t fully accepted, not delivered, overdue.
    Excluded: a draft, a cancelled request, a declined and a withdrawn pledge."""
    a = region.operator_a
    tents = make_request(region, crisis, quantity=100)
    tarps = make_request(region, crisis, quantity=200, item="tarpaulin", needed_in_hours=-3)
    rice = make_request(region, crisis, quantity=20, sector="food", item="rice",
                        needed_in_hours=-1)  # fmt: skip
    make_request(region, crisis, quantity=999, submit=False)
    cancelled = make_request(region, crisis, quantity=500)
    assistance.cancel_request(by=a, request_id=cancelled.pk)

    p = make_pledge(region, tents, quantity=60)
    assistance.accept_pledge(by=a, pledge_id=p.pk)
    assistance.dispatch_pledge(by=region.operator_b, pledge_id=p.pk)
    assistance.confirm_delivery(by=a, pledge_id=p.pk, quantity_received=50)
    make_pledge(region, tents, quantity=10)  # offered, not yet accepted
    declined = make_pledge(region, tents, quantity=70)
    assistance.decline_pledge(by=a, pledge_id=declined.pk)
    withdrawn = make_pledge(region, tarps, quantity=30)
    assistance.withdraw_pledge(by=region.operator_b, pledge_id=withdrawn.pk)
    r = make_pledge(region, rice, quantity=20)
    assistance.accept_pledge(by=a, pledge_id=r.pk)
    make_offer(region, crisis, item="tarpaulin", quantity=80)
    return {"tents": tents, "tarps": tarps, "rice": rice}


def test_gap_figures(region, crisis, known):
    g = gap_figures(crisis=crisis)
    assert g["needs"] == 3
    sectors = {s["sector"]: s for s in g["sectors"]}
    assert set(sectors) == {"shelter", "food"}
    shelter = sectors["shelter"]
    items = {row["item"]: row for row in shelter["items"]}
    assert items["family_tent"] == {
        "item": "family_tent", "label": "Family tent", "unit": "piece", "requested": 100,
        "pledged": 70, "accepted": 60, "delivered": 50, "open_offers": 0,
        "coverage_pct": 60.0, "delivered_pct": 50.0, "gap": 40,
    }  # fmt: skip
    assert items["tarpaulin"]["requested"] == 200
    assert (items["tarpaulin"]["pledged"], items["tarpaulin"]["accepted"]) == (0, 0)
    assert items["tarpaulin"]["open_offers"] == 80 and items["tarpaulin"]["gap"] == 200
    # Sector coverage is the mean of its needs' coverage: (60 % + 0 %) / 2.
    assert (shelter["coverage_pct"], shelter["delivered_pct"]) == (30.0, 25.0)
    assert (shelter["needs"], shelter["needs_covered"], shelter["overdue"]) == (2, 0, 1)
    food = sectors["food"]
    assert (food["coverage_pct"], food["delivered_pct"], food["needs_covered"]) == (100.0, 0.0, 1)
    assert g["coverage_pct"] == round((0.6 + 0 + 1.0) / 3 * 100, 1)
    overdue = {o["request_id"]: o for o in g["overdue"]}
    assert set(overdue) == {known["tarps"].pk, known["rice"].pk}
    assert overdue[known["tarps"].pk]["hours_overdue"] >= 3


def test_sector_filter_and_api(region, crisis, known, api_client, django_assert_max_num_queries):
    api_client.force_authenticate(region.operator_b)
    with django_assert_max_num_queries(8):
        response = api_client.get(f"{API}/gaps/?crisis={crisis.pk}&sector=food")
    assert response.status_code == 200
    body = response.json()
    assert [s["sector"] for s in body["sectors"]] == ["food"] and body["needs"] == 1
    assert api_client.get(f"{API}/gaps/").status_code == 400
    response = api_client.get(f"{API}/gaps/?crisis={crisis.pk}&sector=nonsense")
    assert response.status_code == 400 and "sector" in response.json()["details"]["fields"]


def test_printable_summary(region, crisis, known, api_client):
    api_client.force_authenticate(region.auditor)
    response = api_client.get(f"{API}/gaps/summary/?crisis={crisis.pk}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert crisis.reference in html and "Family tent" in html
    assert "coverage 30.0 %" in html and f"REQ-{known['tarps'].pk}" in html


def test_closed_request_still_counts_but_is_not_overdue(region, crisis):
    req = make_request(region, crisis, quantity=10, needed_in_hours=-1)
    assistance.close_request(by=region.operator_a, request_id=req.pk)
    g = gap_figures(crisis=crisis, now=timezone.now() + timedelta(days=1))
    assert g["needs"] == 1 and g["overdue"] == []
