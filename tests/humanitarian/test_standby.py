"""Standby-asset suggestions on a known register, and an offer from an asset in one call."""

import pytest

from core.errors import InvalidInput
from crisis.models import TimelineEntry
from directory.access import access_for
from humanitarian.models import AssetKind, PledgeStatus
from humanitarian.selectors import suggest_standby_assets
from tests.humanitarian.conftest import API, make_asset, make_crisis, make_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(region):
    a = (region.state_a, region.desk_a)
    b = (region.state_b, region.desk_b)
    c = (region.state_c, region.desk_c)
    return {
        "own": make_asset(*a, "A USAR heavy", readiness_hours=1, capacity=3),
        "b_slow": make_asset(*b, "B USAR medium", readiness_hours=24, capacity=2),
        "b_fast": make_asset(*b, "B USAR light", readiness_hours=6, capacity=1),
        "c_fast_big": make_asset(*c, "C USAR heavy", readiness_hours=6, capacity=2),
        "c_boat": make_asset(*c, "C maritime SAR", item="maritime_sar_unit", unit="vessel",
                             readiness_hours=2, capacity=4),
        "b_away": make_asset(*b, "B USAR reserve", readiness_hours=1, capacity=5,
                             available=False),
        "b_food": make_asset(*b, "B rice store", item="rice", sector="food", unit="tonne",
                             capacity=500, readiness_hours=1, kind=AssetKind.STOCKPILE),
    }  # fmt: skip


def test_suggestions_order(region, crisis, register):
    req = make_request(region, crisis, sector="sar", item="usar_team", quantity=2)
    got = suggest_standby_assets(access=access_for(region.operator_a), request=req)
    names = [s.asset.name for s in got]
    # Exact item first; among those, assets that cover the need, then readiness, then size.
    assert names == ["C USAR heavy", "B USAR medium", "B USAR light", "C maritime SAR"]
    first = got[0]
    assert first.item_matches and first.covers_remaining and first.suggested_quantity == 2
    assert not got[2].covers_remaining and got[2].suggested_quantity == 1
    assert not got[3].item_matches


def test_suggestions_over_the_api_and_offer_in_one_call(region, register, api_client):
    crisis = make_crisis(region, supporting=[region.desk_b, region.desk_c])
    req = make_request(region, crisis, sector="sar", item="usar_team", quantity=2)
    api_client.force_authenticate(region.operator_c)
    response = api_client.get(f"{API}/requests/{req.pk}/suggestions/")
    assert response.status_code == 200
    top = response.json()[0]
    assert (top["asset"]["name"], top["suggested_quantity"]) == ("C USAR heavy", 2)

    response = api_client.post(
        f"{API}/standby-assets/{top['asset']['id']}/offer/", {"request": req.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    pledge = response.json()
    assert (pledge["status"], pledge["quantity"], pledge["pledging_desk"]) == (
        PledgeStatus.OFFERED, 2, "CCC-DESK",
    )  # fmt: skip
    assert pledge["source_asset"] == top["asset"]["id"] and pledge["eta"]
    entry = TimelineEntry.objects.filter(crisis=crisis).order_by("-seq").first()
    assert entry.kind == "assistance.pledge_offered"
    assert entry.payload["standby_asset"] == top["asset"]["id"]


def test_only_the_assets_state_offers_it(region, register, api_client):
    crisis = make_crisis(region, supporting=[region.desk_b, region.desk_c])
    req = make_request(region, crisis, sector="sar", item="usar_team", quantity=2)
    api_client.force_authenticate(region.operator_b)
    response = api_client.post(
        f"{API}/standby-assets/{register['c_fast_big'].pk}/offer/", {"request": req.pk}
    )
    assert response.status_code == 404  # B is not on C's desk
    api_client.force_authenticate(region.operator_c)
    response = api_client.post(
        f"{API}/standby-assets/{register['c_boat'].pk}/offer/", {"request": req.pk}
    )
    assert response.status_code == 400 and response.json()["code"] == "asset_mismatch"


def test_offer_above_capacity_is_refused(region, crisis, register):
    from humanitarian.services.standby import offer_from_asset

    req = make_request(region, crisis, sector="sar", item="usar_team", quantity=5)
    with pytest.raises(InvalidInput):
        offer_from_asset(by=region.operator_b, asset_id=register["b_fast"].pk, request_id=req.pk,
                         quantity=2)  # fmt: skip


def test_register_is_listed_with_filters(region, register, api_client):
    api_client.force_authenticate(region.operator_a)
    response = api_client.get(f"{API}/standby-assets/?sector=sar&state=CCC&is_available=true")
    assert {a["name"] for a in response.json()["results"]} == {"C USAR heavy", "C maritime SAR"}
