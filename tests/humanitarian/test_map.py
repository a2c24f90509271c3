"""The region map page: a marker per open crisis (titled), shelters with their
occupancy, displacement by area, the same figures as tables, and nothing fetched from
the internet (the boundaries are a vendored Natural Earth file)."""

import re

import pytest
from django.test import Client

from crisis.models import Crisis
from humanitarian.console.map import DATA, Projection, region
from humanitarian.services import displacement
from tests.humanitarian.conftest import import_displacement, make_crisis, make_shelter

pytestmark = pytest.mark.django_db


def page_for(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/map/")
    assert response.status_code == 200
    return response.content.decode()


def test_map_shows_open_crises_shelters_and_displacement(region):
    crisis = make_crisis(region)
    Crisis.objects.filter(pk=crisis.pk).update(latitude="13.75", longitude="100.50")
    other = make_crisis(region, ref="CR-2026-0101", status="reported")
    Crisis.objects.filter(pk=other.pk).update(latitude="-6.20", longitude="106.80", severity=5)
    closed = make_crisis(region, ref="CR-2026-0102", status="closed")
    Crisis.objects.filter(pk=closed.pk).update(latitude="10.0", longitude="105.0")
    make_shelter(region, crisis, name="Harbour School", capacity=200, population=150,
                 latitude="13.70", longitude="100.40", admin1_code="AA-01")  # fmt: skip
    make_shelter(region, crisis, name="Hill Temple", capacity=50, population=50,
                 latitude="14.10", longitude="100.90", admin1_code="AA-02")  # fmt: skip
    job = import_displacement(region, crisis)
    displacement.run_import(job_id=job.pk)

    html = page_for(region.operator_a)
    svg = html[html.index("<svg") : html.index("</svg>")]
    markers = re.findall(r'<g class="crisis-marker" data-crisis="(\d+)"[^>]*><title>([^<]*)', svg)
    assert sorted(int(pk) for pk, _ in markers) == sorted([crisis.pk, other.pk])
    titles = dict(markers)
    assert (
        titles[str(other.pk)].startswith("CR-2026-0101") and "severity 5" in titles[str(other.pk)]
    )
    assert f'data-crisis="{closed.pk}"' not in svg
    # Shelters: a square with its occupancy written beside it, and a title saying it all.
    assert re.search(r'data-percent="75".*?>75 %</text>', svg)
    assert re.search(r'data-percent="100".*?>100 %</text>', svg)
    assert "Shelter Hill Temple: 50 of 50 places (100 %)" in svg
    # Displacement: one circle per admin-1 area (Coast: 1 200 + 800 + 150; Hills: 2 540),
    # the country shaded, and the legend.
    assert re.findall(r'class="displacement" data-area="([^"]+)" data-people="(\d+)"', svg) == [
        ("AA-02", "2540"), ("AA-01", "2150")
    ]  # fmt: skip
    assert 'class="legend"' in svg
    # The text alternative beside it.
    assert 'id="map-crises"' in html and "Harbour School" in html and "2500" in html
    assert 'aria-labelledby="region-map-title"' in svg
    # Nothing from the internet: no external URL on the page but the SVG namespace.
    external = {u for u in re.findall(r'(?:src|href)="(https?://[^"]+)"', html)}
    assert external == set()


def test_state_c_sees_neither_the_crisis_nor_its_shelters(region):
    crisis = make_crisis(region)
    Crisis.objects.filter(pk=crisis.pk).update(latitude="13.75", longitude="100.50")
    make_shelter(region, crisis, name="Harbour School", capacity=200, latitude="13.7",
                 longitude="100.4")  # fmt: skip
    html = page_for(region.operator_c)
    assert "crisis-marker" not in html and "Harbour School" not in html
    assert "No open crisis concerns your desk." in html


def test_boundaries_are_the_vendored_region_file():
    data = region()
    codes = {f["id"] for f in data["features"] if f["properties"]["region"]}
    assert codes == {"BRN", "KHM", "IDN", "LAO", "MMR", "MYS", "PHL", "SGP", "THA", "VNM", "TLS"}
    assert DATA.stat().st_size < 250_000
    project = Projection(data["bbox"])
    west, south, east, north = data["bbox"]
    assert project(west, north) == (0, 0)
    x, y = project(east, south)
    assert x == 1000 and abs(y - project.height) < 1
