"""Shelters and the standby register in the console: each state's desks keep their own
(the services decide, the page offers only what they let through); junk gets a message."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from core.errors import DomainError
from humanitarian.models import AssetKind, Shelter, ShelterOccupancy, StandbyAsset
from humanitarian.services import shelters, standby
from tests.humanitarian.conftest import make_asset, make_crisis

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _code(call) -> str:
    try:
        call()
    except DomainError as exc:
        return exc.code
    return "ok"


def test_a_state_adds_and_changes_its_own_assets_only(region):
    asset = standby.register_standby_asset(
        by=region.operator_b, desk=region.desk_b, name="B field hospital",
        kind=AssetKind.MEDICAL_TEAM, item="emergency_medical_team", capacity=1,
            readiness_hours=48,
    )  # fmt: skip
    assert asset.state == region.state_b and asset.sector == "health" and asset.unit == "team"
    assert LogEntry.objects.filter(object_id=str(asset.pk)).count() == 1

    changed = standby.update_standby_asset(
        by=region.supervisor_b, asset_id=asset.pk, capacity=2, is_available=False
    )
    assert (changed.capacity, changed.is_available) == (2, False)
    assert LogEntry.objects.filter(object_id=str(asset.pk)).count() == 2

    for person in (region.operator_a, region.coordinator, region.auditor):
        assert _code(
            lambda p=person: standby.update_standby_asset(by=p, asset_id=asset.pk, capacity=9)
        ) in ("not_owner", "read_only")
    assert StandbyAsset.objects.get(pk=asset.pk).capacity == 2

    assert _code(
        lambda: standby.register_standby_asset(
            by=region.operator_b, desk=region.desk_b, name="B field hospital",
            kind=AssetKind.MEDICAL_TEAM, item="emergency_medical_team", capacity=1,
            readiness_hours=48,
        )
    ) == "duplicate"  # fmt: skip
    for bad in ({"capacity": 0}, {"readiness_hours": -1}, {"capacity": 2**40}):
        args = {"capacity": 1, "readiness_hours": 1, **bad}
        assert _code(
            lambda a=args: standby.register_standby_asset(
                by=region.operator_b, desk=region.desk_b, name="Another", kind="expert",
                item="emergency_medical_team", **a,
            )
        ) == "invalid"  # fmt: skip
    # The regional centre has no state: it keeps no assets.
    assert _code(
        lambda: standby.register_standby_asset(
            by=region.coordinator, desk=region.centre, name="RCC team", kind="expert",
            item="emergency_medical_team", capacity=1, readiness_hours=1,
        )
    ) == "no_state"  # fmt: skip


def test_standby_page_offers_forms_only_for_the_own_state(region):
    b_asset = make_asset(region.state_b, region.desk_b, "B USAR light")
    a_asset = make_asset(region.state_a, region.desk_a, "A USAR heavy")
    page_b = _client(region.operator_b).get("/aid/standby/").content.decode()
    assert f"/aid/standby/{b_asset.pk}/" in page_b and f"/aid/standby/{a_asset.pk}/" not in page_b
    assert "/aid/standby/new/" in page_b
    for person in (region.auditor, region.coordinator):
        page = _client(person).get("/aid/standby/").content.decode()
        assert "/aid/standby/new/" not in page and f"/aid/standby/{b_asset.pk}/" not in page
        assert "B USAR light" in page and "A USAR heavy" in page

    client = _client(region.operator_b)
    response = client.post(
        f"/aid/standby/{b_asset.pk}/",
        {"capacity": "4", "readiness_hours": "3", "location": "Port", "is_available": "on"},
        follow=True,
    )
    assert response.status_code == 200
    b_asset.refresh_from_db()
    assert (b_asset.capacity, b_asset.readiness_hours, b_asset.location) == (4, 3, "Port")
    # Someone else's asset, or junk: a message, nothing changed, never a 500.
    for url, data in (
        (f"/aid/standby/{a_asset.pk}/", {"capacity": "9", "readiness_hours": "1"}),
        (f"/aid/standby/{b_asset.pk}/", {"capacity": "x", "readiness_hours": "1"}),
        ("/aid/standby/999999/", {"capacity": "1", "readiness_hours": "1"}),
        ("/aid/standby/new/", {"name": "", "kind": "nope"}),
    ):
        response = client.post(url, data, follow=True)
        assert response.status_code == 200, url
        assert list(response.context["messages"]), url
    a_asset.refresh_from_db()
    assert a_asset.capacity != 9


def test_shelter_readings_by_the_managing_state_only(region):
    crisis = make_crisis(region)
    shelter = shelters.register_shelter(
        by=region.operator_a, desk=region.desk_a, crisis=crisis, name="School", capacity=100
    )
    board_a = _client(region.operator_a).get(f"/aid/{crisis.pk}/").content.decode()
    board_b = _client(region.operator_b).get(f"/aid/{crisis.pk}/").content.decode()
    assert f"/aid/shelters/{shelter.pk}/reading/" in board_a
    assert f"/aid/shelters/{shelter.pk}/reading/" not in board_b
    assert f"/aid/{crisis.pk}/shelters/" in board_a  # B may register its own, too
    assert f"/aid/{crisis.pk}/shelters/" in board_b
    board_audit = _client(region.auditor).get(f"/aid/{crisis.pk}/").content.decode()
    assert "/reading/" not in board_audit and f"/aid/{crisis.pk}/shelters/" not in board_audit

    _client(region.operator_a).post(
        f"/aid/shelters/{shelter.pk}/reading/", {"population": "100", "capacity": "100"}
    )
    shelter.refresh_from_db()
    assert (shelter.population, shelter.status) == (100, "full")
    _client(region.operator_a).post(
        f"/aid/shelters/{shelter.pk}/reading/",
        {"population": "20", "capacity": "150", "status": "closed"},
    )
    shelter.refresh_from_db()
    assert (shelter.population, shelter.capacity, shelter.status) == (20, 150, "closed")
    assert ShelterOccupancy.objects.filter(shelter=shelter).count() == 3

    response = _client(region.operator_b).post(
        f"/aid/shelters/{shelter.pk}/reading/", {"population": "1", "capacity": "1"}, follow=True
    )
    assert response.status_code == 200 and list(response.context["messages"])
    assert (
        _client(region.operator_c)
        .post(f"/aid/shelters/{shelter.pk}/reading/", {"population": "1", "capacity": "1"})
        .status_code
        == 404
    )
    for junk in ({"population": "-1", "capacity": "1"}, {"population": "x"}, {}):
        response = _client(region.operator_a).post(
            f"/aid/shelters/{shelter.pk}/reading/", junk, follow=True
        )
        assert response.status_code == 200 and list(response.context["messages"])
    shelter.refresh_from_db()
    assert shelter.population == 20

    response = _client(region.operator_b).post(
        f"/aid/{crisis.pk}/shelters/", {"name": "Gym", "capacity": "50", "population": "0"},
        follow=True,
    )  # fmt: skip
    assert response.status_code == 200
    assert Shelter.objects.get(name="Gym").managing_state == region.state_b
