"""List endpoints: in the OpenAPI schema, filters work, query counts do not grow per row."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from openapi_spec_validator import validate

from humanitarian.models import AssetKind, ShelterStatus
from humanitarian.services import assistance, shelters, sitreps
from tests.humanitarian.conftest import (
    API,
    import_displacement,
    make_asset,
    make_crisis,
    make_pledge,
    make_request,
    make_shelter,
)

pytestmark = pytest.mark.django_db

LISTS = [
    "requests",
    "pledges",
    "deliveries",
    "standby-assets",
    "shelters",
    "displacement",
    "displacement/imports",
    "sitreps",
]


def populate(region, crisis, n, start=0):
    for i in range(start, start + n):
        req = make_request(region, crisis, quantity=10 + i, item="rice", sector="food")
        pledge = make_pledge(region, req, quantity=5)
        assistance.accept_pledge(by=region.operator_a, pledge_id=pledge.pk)
        assistance.dispatch_pledge(by=region.operator_b, pledge_id=pledge.pk)
        shelter = make_shelter(region, crisis, name=f"School {i}", capacity=100)
        shelters.update_shelter(by=region.operator_a, shelter_id=shelter.pk, population=10 * i)
        make_asset(region.state_b, region.desk_b, f"Stockpile {i}", kind=AssetKind.STOCKPILE,
                   sector="food", item="rice", unit="tonne", capacity=10)  # fmt: skip
        csv = (
            "country_code,country_name,admin1_name,admin1_code,reported_on,round,idps,"
            f"refugees,source\nAAA,State A,Coast,AA-01,2025-01-01,{i + 1},10,0,DTM\n"
        )
        import_displacement(region, crisis, csv)
        sitreps.post_situation_report(crisis_id=crisis.pk, report_date=date(2025, 1, 1 + i))


@pytest.mark.parametrize("user", ["operator_b", "coordinator"])
def test_query_counts_do_not_depend_on_rows(region, crisis, api_client, user,
                                            django_assert_max_num_queries):  # fmt: skip
    api_client.force_authenticate(getattr(region, user))
    populate(region, crisis, 1)
    counts = {}
    for name in LISTS:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get(f"{API}/{name}/").status_code == 200
        counts[name] = len(ctx)
    populate(region, crisis, 4, start=1)
    for name in LISTS:
        with django_assert_max_num_queries(counts[name]):
            response = api_client.get(f"{API}/{name}/")
            assert response.status_code == 200
        if user == "coordinator":
            assert response.json()["count"] >= 5, name
    assert response.json() is not None
    shelter_id = api_client.get(f"{API}/shelters/").json()["results"][0]["id"]
    with django_assert_max_num_queries(6):
        assert api_client.get(f"{API}/shelters/{shelter_id}/occupancy/").status_code == 200


def test_filters(region, crisis, api_client):
    other = make_crisis(region, ref="CR-2026-0200")
    food = make_request(region, crisis, item="rice", sector="food")
    tents = make_request(region, crisis)
    elsewhere = make_request(region, other)
    draft = make_request(region, crisis, submit=False)
    pledge = make_pledge(region, tents)
    api_client.force_authenticate(region.coordinator)

    def got(url):
        response = api_client.get(url)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert got(f"{API}/requests/?crisis={crisis.pk}") == {food.pk, tents.pk, draft.pk}
    assert got(f"{API}/requests/?sector=food") == {food.pk}
    assert got(f"{API}/requests/?status=draft") == {draft.pk}
    assert got(f"{API}/requests/?status=open&crisis={other.pk}") == {elsewhere.pk}
    assert got(f"{API}/requests/?state=aaa") == {food.pk, tents.pk, elsewhere.pk, draft.pk}
    assert got(f"{API}/requests/?state=BBB") == set()
    assert got(f"{API}/pledges/?state=BBB&sector=shelter&status=offered") == {pledge.pk}
    assert got(f"{API}/pledges/?crisis={other.pk}") == set()
    response = api_client.get(f"{API}/requests/?status=nonsense")
    assert response.status_code == 400 and "status" in response.json()["details"]["fields"]


def test_overdue_filter_and_shelter_history(region, crisis, api_client):
    late = make_request(region, crisis, needed_in_hours=-5)
    make_request(region, crisis)
    api_client.force_authenticate(region.operator_a)
    response = api_client.get(f"{API}/requests/?overdue=true")
    assert [r["id"] for r in response.json()["results"]] == [late.pk]

    response = api_client.post(
        f"{API}/shelters/",
        {"crisis": crisis.pk, "name": "Town hall", "capacity": 50, "population": 10,
         "services": ["water", "health"]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    shelter_id = response.json()["id"]
    for population in (30, 50):
        response = api_client.patch(
            f"{API}/shelters/{shelter_id}/", {"population": population}, format="json"
        )
        assert response.status_code == 200
    assert response.json()["status"] == ShelterStatus.FULL
    history = api_client.get(f"{API}/shelters/{shelter_id}/occupancy/").json()["results"]
    assert [(h["population"], h["status"]) for h in history] == [
        (10, "open"),
        (30, "open"),
        (50, "full"),
    ]
    api_client.force_authenticate(region.operator_b)
    response = api_client.patch(f"{API}/shelters/{shelter_id}/", {"population": 1}, format="json")
    assert response.status_code == 403


def test_schema_lists_the_humanitarian_api(client):
    schema = client.get("/api/schema/?format=json").json()
    validate(schema)
    paths = schema["paths"]
    for path in [
        f"{API}/requests/",
        f"{API}/requests/{{id}}/suggestions/",
        f"{API}/pledges/{{id}}/accept/",
        f"{API}/pledges/{{id}}/claim/",
        f"{API}/pledges/{{id}}/dispatch/",
        f"{API}/pledges/{{id}}/deliver/",
        f"{API}/deliveries/",
        f"{API}/standby-assets/{{id}}/offer/",
        f"{API}/shelters/{{id}}/occupancy/",
        f"{API}/displacement/",
        f"{API}/displacement/imports/",
        f"{API}/displacement/imports/{{id}}/",
        f"{API}/gaps/",
        f"{API}/gaps/summary/",
        f"{API}/exports/{{kind}}.csv",
        f"{API}/sitreps/{{id}}/text/",
    ]:
        assert path in paths, path
    params = {p["name"] for p in paths[f"{API}/requests/"]["get"]["parameters"]}
    assert {"crisis", "sector", "status", "state", "page"} <= params
    params = {p["name"] for p in paths[f"{API}/pledges/"]["get"]["parameters"]}
    assert {"crisis", "sector", "status", "state"} <= params


def test_timezone_aware_needed_by_round_trips(region, crisis, api_client):
    api_client.force_authenticate(region.operator_a)
    needed_by = timezone.now() + timedelta(days=3)
    response = api_client.post(
        f"{API}/requests/",
        {"crisis": crisis.pk, "sector": "health", "item": "medical_kit", "quantity": 4,
         "needed_by": needed_by.isoformat()},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201
    assert response.json()["status"] == "draft"
    assert response.json()["needed_by"].endswith("Z") or "+00:00" in response.json()["needed_by"]
