"""Exercise mode in the crisis app: the flag never changes, CAP Exercise round trip, the
crisis list's filter, exercise crises out of real figures."""

import pytest
from django.db import DatabaseError, transaction
from lxml import etree

from crisis import cap
from crisis.models import CapAlert, Crisis
from crisis.services import cap_intake
from tests.crisis.factories import report
from tests.crisis.test_cap import GOOD, NS, post_cap, written

pytestmark = pytest.mark.django_db

EXERCISE = GOOD.replace("<status>Actual</status>", "<status>Exercise</status>")


def update_of(document: str, identifier: str = "TMD-EQ-20261124-0900") -> str:
    """An Update of ``document``'s alert, with its own identifier."""
    return (
        document.replace("<msgType>Alert</msgType>", "<msgType>Update</msgType>")
        .replace(
            "<scope>Public</scope>",
            "<scope>Public</scope><references>earthquake.tmd.go.th,TMD-EQ-20261124-0830,"
            "2026-11-24T08:30:00+07:00</references>",
        )
        .replace("TMD-EQ-20261124-0830</identifier>", f"{identifier}</identifier>")
    )


def test_the_database_refuses_to_change_the_exercise_flag(region):
    real = report(region)
    drill = report(region, exercise=True)
    for crisis, other in ((real, True), (drill, False)):
        with pytest.raises(DatabaseError, match="never changed"), transaction.atomic():
            Crisis.objects.filter(pk=crisis.pk).update(exercise=other)
        with pytest.raises(DatabaseError, match="never changed"), transaction.atomic():
            crisis.exercise = other
            crisis.save()
    # the rest of the row stays writable, the flag as it was
    Crisis.objects.filter(pk=drill.pk).update(title="Drill: tanker collision")
    assert list(Crisis.objects.order_by("pk").values_list("exercise", flat=True)) == [False, True]


def test_cap_exercise_round_trip(region, api_client):
    drill = report(region, exercise=True)
    real = report(region)
    api_client.force_authenticate(region.operator_b)
    out = api_client.get(f"/api/v1/crises/{drill.pk}/cap.xml").content
    assert cap.validate_document(out) is None
    assert etree.fromstring(out).findtext("cap:status", namespaces=NS) == "Exercise"
    real_out = etree.fromstring(api_client.get(f"/api/v1/crises/{real.pk}/cap.xml").content)
    assert real_out.findtext("cap:status", namespaces=NS) == "Actual"
    assert set(drill.cap_alerts.values_list("status", flat=True)) == {"Exercise"}
    # our Atom feed says so in the drill's entry title, and only there
    atom = api_client.get("/api/v1/cap/feed.atom").content.decode()
    titles = etree.fromstring(atom.encode()).findall("{http://www.w3.org/2005/Atom}entry")
    marked = {
        e.findtext("{http://www.w3.org/2005/Atom}title").startswith("EXERCISE EXERCISE EXERCISE")
        for e in titles
        if drill.reference in e.findtext("{http://www.w3.org/2005/Atom}title")
    }
    assert marked == {True}
    assert not any(
        e.findtext("{http://www.w3.org/2005/Atom}title").startswith("EXERCISE")
        for e in titles
        if real.reference in e.findtext("{http://www.w3.org/2005/Atom}title")
    )

    # our own exercise alert, posted back in, is accepted as exercise traffic
    api_client.force_authenticate(region.operator_a)
    back = post_cap(api_client, out.decode())
    assert back.status_code == 201, back.content
    assert back.json()["exercise"] is True

    # an Exercise alert from elsewhere opens an exercise crisis
    opened = post_cap(api_client, EXERCISE)
    assert opened.status_code == 201, opened.content
    assert opened.json()["exercise"] is True
    crisis = Crisis.objects.get(pk=opened.json()["id"])
    assert crisis.cap_alerts.get(direction="received").status == "Exercise"
    assert crisis.timeline.get(kind="cap_received").payload["status"] == "Exercise"
    # its Exercise update joins it
    joined = post_cap(api_client, update_of(EXERCISE))
    assert joined.status_code == 200 and joined.json()["id"] == crisis.pk
    # an Actual update referring to the drill's alert is refused: nothing written
    before = written()
    crossed = post_cap(api_client, update_of(GOOD, "TMD-EQ-20261124-0930"))
    assert crossed.status_code == 400, crossed.content
    assert crossed.json()["details"]["element"] == "alert/status"
    assert written() == before


def test_a_real_alert_never_joins_a_drill_nor_a_drill_a_real_crisis(region):
    real = cap_intake.ingest_cap_alert(by=region.operator_a, desk=region.desk_a, xml=GOOD)
    assert real.crisis.exercise is False
    with pytest.raises(cap_intake.InvalidInput, match="never joins a real crisis"):
        cap_intake.ingest_cap_alert(
            by=region.operator_a, desk=region.desk_a, xml=update_of(EXERCISE)
        )
    assert CapAlert.objects.filter(direction="received").count() == 1


def test_crisis_list_filter_and_marks(region, api_client):
    real = report(region)
    drill = report(region, exercise=True)
    api_client.force_authenticate(region.operator_a)

    def listed(query=""):
        body = api_client.get(f"/api/v1/crises/{query}").json()
        return {c["id"]: c["exercise"] for c in body["results"]}

    assert listed() == {real.pk: False, drill.pk: True}
    assert listed("?exercise=all") == {real.pk: False, drill.pk: True}
    assert listed("?exercise=false") == {real.pk: False}
    assert listed("?exercise=true") == {drill.pk: True}
    bad = api_client.get("/api/v1/crises/?exercise=maybe")
    assert bad.status_code == 400 and "exercise" in bad.json()["message"]
