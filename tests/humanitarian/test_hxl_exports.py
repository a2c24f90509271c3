"""HXL exports, parsed back with libhxl and validated against its default schema."""

import io

import hxl
import pytest

from humanitarian.services import assistance
from tests.humanitarian.conftest import (
    API,
    import_displacement,
    make_pledge,
    make_request,
    make_shelter,
)
from tests.support.api import body

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(region, crisis):
    tents = make_request(region, crisis, quantity=100, admin1_code="AA-01", admin1_name="Coast",
                         location="Harbour school")  # fmt: skip
    rice = make_request(region, crisis, quantity=20, sector="food", item="rice")
    make_request(region, crisis, quantity=5, sector="health", item="medical_kit")
    p1 = make_pledge(region, tents, quantity=60)
    p2 = make_pledge(region, rice, quantity=20, by=region.coordinator, desk=region.centre)
    make_pledge(region, tents, quantity=10)
    for pledge in (p1, p2):
        assistance.accept_pledge(by=region.operator_a, pledge_id=pledge.pk)
    assistance.dispatch_pledge(by=region.operator_b, pledge_id=p1.pk)
    assistance.dispatch_pledge(by=region.coordinator, pledge_id=p2.pk)
    assistance.confirm_delivery(by=region.operator_a, pledge_id=p1.pk, quantity_received=58)
    make_shelter(region, crisis, name="Harbour school", capacity=300, population=120,
                 latitude="8.45000", longitude="98.53000", admin1_code="AA-01",
                 admin1_name="Coast", services=["water", "health"])  # fmt: skip
    import_displacement(region, crisis)
    return crisis


def fetch(api_client, kind, query=""):
    response = api_client.get(f"{API}/exports/{kind}.csv{query}")
    assert response.status_code == 200
    assert response.streaming  # sent as it is read, never built whole in memory
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return body(response)


@pytest.mark.parametrize(
    ("kind", "rows", "tags"),
    [
        ("requests", 3, ["#country+code", "#adm1+name", "#sector+code", "#item+code",
                         "#value+requested", "#date+needed", "#date+reported"]),
        ("pledges", 3, ["#org+code", "#value+pledged", "#value+accepted", "#date+eta"]),
        ("deliveries", 2, ["#value+dispatched", "#value+received", "#date+delivered"]),
        ("shelters", 1, ["#loc+name", "#geo+lat", "#population+sheltered+ind", "#capacity+ind"]),
        ("displacement", 3, ["#country+code", "#adm1+code", "#adm2+name", "#date+reported",
                             "#affected+idps+ind", "#affected+refugees+ind"]),
    ],
)  # fmt: skip
def test_export_passes_libhxl_default_schema(region, scenario, api_client, kind, rows, tags):
    api_client.force_authenticate(region.coordinator)
    content = fetch(api_client, kind, f"?crisis={scenario.pk}")
    lines = content.decode().splitlines()
    assert not lines[0].startswith("#") and lines[1].startswith("#")  # human row, then tags

    dataset = hxl.data(io.BytesIO(content))
    display = [column.display_tag for column in dataset.columns]
    for tag in tags:
        assert tag in display, (tag, display)
    assert len(list(hxl.data(io.BytesIO(content)))) == rows

    report = hxl.validate(hxl.data(io.BytesIO(content)))
    assert report["is_valid"], report["issues"]
    assert report["stats"]["error"] == 0, report["issues"]


def test_values_survive_the_round_trip(region, scenario, api_client):
    api_client.force_authenticate(region.operator_a)
    dataset = hxl.data(io.BytesIO(fetch(api_client, "deliveries")))
    delivered = [row for row in dataset if row.get("#status") == "delivered"]
    assert len(delivered) == 1
    assert delivered[0].get("#value+received") == "58"
    assert delivered[0].get("#country+code") == "AAA"

    dataset = hxl.data(io.BytesIO(fetch(api_client, "displacement")))
    assert sum(int(row.get("#affected+idps")) for row in dataset) == 4500


def test_exports_respect_visibility_and_filters(region, scenario, api_client):
    api_client.force_authenticate(region.operator_c)
    assert len(list(hxl.data(io.BytesIO(fetch(api_client, "requests"))))) == 0
    api_client.force_authenticate(region.operator_b)
    rows = list(hxl.data(io.BytesIO(fetch(api_client, "requests", "?sector=food"))))
    assert [row.get("#item+code") for row in rows] == ["rice"]
    response = api_client.get(f"{API}/exports/unicorns.csv")
    assert response.status_code == 400 and response.json()["code"] == "unknown_export"


def test_a_broken_file_fails_the_same_schema():
    """The check has teeth: a text in a number column is an error."""
    bad = "Country,IDPs\n#country+code,#affected+idps\nAAA,many\n"
    report = hxl.validate(hxl.data(io.BytesIO(bad.encode())))
    assert not report["is_valid"]


def test_a_long_export_is_written_in_chunks_of_rows(region, crisis):
    from humanitarian.models import DisplacementReport
    from humanitarian.services import exports

    import_displacement(region, crisis)
    source = DisplacementReport.objects.filter(crisis=crisis).first()
    DisplacementReport.objects.bulk_create(
        [
            DisplacementReport(
                **{f.attname: getattr(source, f.attname) for f in source._meta.concrete_fields
                   if f.attname not in {"id", "round"}},
                round=100 + n,
            )
            for n in range(exports.ROWS_PER_CHUNK + 10)
        ]
    )  # fmt: skip
    export = exports.EXPORTS["displacement"]
    chunks = list(exports.hxl_csv_chunks(export, DisplacementReport.objects.filter(crisis=crisis)))
    assert len(chunks) == 2
    rows = "".join(chunks).splitlines()
    assert len(rows) == 2 + DisplacementReport.objects.filter(crisis=crisis).count()
