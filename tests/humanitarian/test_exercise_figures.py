"""An exercise crisis never appears in real figures: gap analysis, exports, sitreps,
``/metrics`` and the console dashboard count real crises only unless a drill is asked for;
lists show both, each item marked."""

from __future__ import annotations

import pytest

from humanitarian.services.gaps import gap_figures
from humanitarian.services.sitreps import post_situation_report
from tests.humanitarian.conftest import API, make_crisis, make_pledge, make_request, make_shelter
from tests.support.api import body
from tests.support.metrics import TOKEN, scrape

pytestmark = pytest.mark.django_db

MARK = "EXERCISE EXERCISE EXERCISE"


@pytest.fixture
def both(region):
    """A real crisis (10 tents needed) and a drill (1,000 tents, 900 pledged) side by side."""
    real = make_crisis(region)
    drill = make_crisis(region, ref="CR-2026-0101", exercise=True)
    make_request(region, real, quantity=10)
    drill_need = make_request(region, drill, quantity=1000)
    make_pledge(region, drill_need, quantity=900)
    make_shelter(region, drill, name="Drill gym", capacity=500, population=450)
    return real, drill


def test_gap_analysis_of_a_real_crisis_holds_nothing_of_a_drill(region, both, api_client):
    real, drill = both
    figures = gap_figures(crisis=real)
    assert figures["exercise"] is False and figures["needs"] == 1
    [shelter] = figures["sectors"]
    assert shelter["items"][0]["requested"] == 10 and shelter["items"][0]["pledged"] == 0
    api_client.force_authenticate(region.operator_a)
    drill_figures = api_client.get(f"{API}/gaps/?crisis={drill.pk}").json()
    assert drill_figures["exercise"] is True and drill_figures["crisis"]["exercise"] is True
    summary = api_client.get(f"{API}/gaps/summary/?crisis={drill.pk}").content.decode()
    assert MARK in summary
    assert MARK not in api_client.get(f"{API}/gaps/summary/?crisis={real.pk}").content.decode()


def test_lists_show_both_marked_exports_count_real_only_unless_asked(region, both, api_client):
    real, drill = both
    api_client.force_authenticate(region.operator_a)

    def listed(path):
        rows = api_client.get(f"{API}/{path}").json()["results"]
        return sorted((r["crisis"], r["exercise"]) for r in rows)

    assert listed("requests/") == [(real.pk, False), (drill.pk, True)]
    assert listed("requests/?exercise=false") == [(real.pk, False)]
    assert listed("requests/?exercise=true") == [(drill.pk, True)]
    assert listed("pledges/") == [(drill.pk, True)]
    assert listed("pledges/?exercise=false") == []
    assert listed("shelters/") == [(drill.pk, True)]
    bad = api_client.get(f"{API}/requests/?exercise=perhaps")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_exercise_filter"

    def exported(query=""):
        response = api_client.get(f"{API}/exports/requests.csv{query}")
        assert response.status_code == 200
        return body(response).decode()

    assert real.reference in exported() and drill.reference not in exported()
    assert drill.reference in exported("?exercise=all") and real.reference in exported(
        "?exercise=all"
    )
    assert drill.reference in exported(f"?crisis={drill.pk}")  # the drill asked for by name


def test_a_drills_sitrep_is_marked_and_a_real_one_is_not(region, both):
    real, drill = both
    drill_report = post_situation_report(crisis_id=drill.pk)
    real_report = post_situation_report(crisis_id=real.pk)
    assert drill_report.text.splitlines()[0] == MARK and drill_report.content["exercise"] is True
    assert MARK not in real_report.text and real_report.content["exercise"] is False
    assert real_report.content["needs"] == 1 and real_report.content["shelters"]["sites"] == 0


def test_metrics_count_open_real_crises_apart_from_drills(region, both, client, settings):
    settings.METRICS_TOKEN = TOKEN
    make_crisis(region, ref="CR-2026-0102", exercise=True)
    make_crisis(region, ref="CR-2026-0103", status="closed")
    figures = scrape(client)
    assert figures.value("crisis_open_crises") == 1
    assert figures.value("crisis_open_exercises") == 2


def test_the_dashboard_lists_drills_apart_from_real_crises(region, both, client):
    real, drill = both
    client.force_login(region.operator_a)
    page = client.get("/").content.decode()
    real_table = page.split('id="crisis-table"', 1)[1].split("</table>", 1)[0]
    drill_table = page.split('id="exercise-table"', 1)[1].split("</table>", 1)[0]
    assert real.reference in real_table and drill.reference not in real_table
    assert drill.reference in drill_table and real.reference not in drill_table
    assert MARK in page  # the participant's banner
