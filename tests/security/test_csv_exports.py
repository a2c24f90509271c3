"""HXL/CSV exports neutralise spreadsheet formulas in text cells (finding 7); numbers,
negative ones included, stay numbers."""

import csv
import io
from decimal import Decimal

import pytest

from tests.humanitarian.conftest import make_crisis, make_shelter
from tests.support.api import body

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.mark.parametrize("name", FORMULAS)
def test_text_cells_that_start_like_a_formula_get_an_apostrophe(region, api_client, name):
    crisis = make_crisis(region)
    make_shelter(region, crisis, name=name, latitude=Decimal("-6.2"), longitude=Decimal("-75.5"))
    api_client.force_authenticate(region.operator_a)
    response = api_client.get(f"/api/v1/humanitarian/exports/shelters.csv?crisis={crisis.pk}")
    assert response.status_code == 200, response.content
    rows = list(csv.reader(io.StringIO(body(response).decode(), newline="")))
    header, row = rows[0], rows[2]
    assert row[header.index("Shelter")] == "'" + name
    assert row[header.index("Latitude")] == "-6.20000"  # a number: unchanged
    assert row[header.index("Longitude")] == "-75.50000"
