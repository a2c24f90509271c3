"""The daily sitrep covers the whole crisis (updates, escalation, tasks, aid, shelters,
displacement), is marked EXERCISE for a drill, and reads and prints in the console."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crisis.models import CrisisTask
from crisis.services.crises import post_situation_update
from humanitarian.services.sitreps import post_situation_report
from tests.humanitarian.conftest import (
    import_displacement,
    make_crisis,
    make_pledge,
    make_request,
    make_shelter,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_crisis(region, crisis):
    post_situation_update(by=region.operator_a, desk=region.desk_a, crisis=crisis,
                          conditions="Ferry capsized; 10 missing.", actions="Divers deployed.",
                          tlp="GREEN")  # fmt: skip
    post_situation_update(by=region.operator_a, desk=region.desk_a, crisis=crisis,
                          conditions="Names of the missing.", tlp="RED")  # fmt: skip
    now = timezone.now()
    for order, (desk, due, done) in enumerate(
        [(region.desk_a, now - timedelta(hours=1), None),  # late
         (region.desk_a, now + timedelta(hours=1), now),  # done in time
         (region.desk_b, now + timedelta(hours=2), None)],  # open, not late
        start=1,
    ):  # fmt: skip
        CrisisTask.objects.create(
            crisis=crisis, desk=desk, item_order=order, party_role="lead", title=f"Task {order}",
            due_at=due, done_at=done, done_by=region.operator_a if done else None,
        )  # fmt: skip
    make_pledge(region, make_request(region, crisis, quantity=10), quantity=4)
    make_shelter(region, crisis, name="Gym", capacity=100, population=100)
    import_displacement(region, crisis)
    return crisis


def test_the_sitrep_covers_the_whole_crisis(region, busy_crisis):
    report = post_situation_report(crisis_id=busy_crisis.pk)
    c = report.content
    assert c["exercise"] is False
    updates = c["situation_updates"]
    assert updates["total"] == 2 and updates["not_quoted"] == 1
    assert [u["conditions"] for u in updates["latest"]] == ["Ferry capsized; 10 missing."]
    assert c["tasks"] == {
        "total": 3, "done": 1, "late": 1,
        "by_desk": [{"desk": "AAA-DESK", "total": 2, "done": 1, "late": 1},
                    {"desk": "BBB-DESK", "total": 1, "done": 0, "late": 0}],
    }  # fmt: skip
    assert c["escalation"]["state"] == "not_started" and c["escalation"]["acknowledged"] == {}
    assert c["shelters_full"] == ["Gym"]
    assert c["displacement"]["idps"] == 4500
    text = report.text
    assert "SITUATION UPDATES: 2" in text and "Ferry capsized; 10 missing." in text
    assert "Names of the missing." not in text
    assert "TASKS: 1 of 3 done, 1 late" in text and "At or over capacity: Gym" in text
    assert "EXERCISE" not in text


def test_an_exercise_sitrep_says_so(region):
    crisis = make_crisis(region, ref="CR-2026-0400", exercise=True)  # a drill from the start
    report = post_situation_report(crisis_id=crisis.pk)
    assert report.content["exercise"] is True
    lines = report.text.splitlines()
    assert lines[0] == lines[-1] == "EXERCISE EXERCISE EXERCISE"
    assert "(EXERCISE)" in lines[1]


def test_the_sitrep_page_reads_in_the_desks_zone_and_prints(region, busy_crisis, api_client):
    report = post_situation_report(crisis_id=busy_crisis.pk)
    client = Client()
    client.force_login(region.operator_a)
    listing = client.get(f"/aid/{busy_crisis.pk}/sitreps/")
    assert listing.status_code == 200
    assert f"/aid/sitreps/{report.pk}/" in listing.content.decode()
    page = client.get(f"/aid/sitreps/{report.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'media="print"' in html and "humanitarian/print" in html
    assert "Ferry capsized; 10 missing." in html and "Names of the missing." not in html
    assert "UTC" in html and "Asia/Bangkok" in html  # desk A's zone beside UTC
    assert "At or over capacity" in html and "EXERCISE" not in html
    # Not a party: hidden, as missing.
    outsider = Client()
    outsider.force_login(region.operator_c)
    assert outsider.get(f"/aid/sitreps/{report.pk}/").status_code == 404
    assert outsider.get(f"/aid/{busy_crisis.pk}/sitreps/").status_code == 404
    assert client.get("/aid/sitreps/999999/").status_code == 404
    # The API keeps its shape and says whether it is an exercise.
    api_client.force_authenticate(region.operator_b)
    row = api_client.get(f"/api/v1/humanitarian/sitreps/{report.pk}/").json()
    assert row["exercise"] is False and row["text"] == report.text
