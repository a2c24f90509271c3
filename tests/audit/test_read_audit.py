"""The read audit: sensitive reads leave a record that auditors and coordinators can
query, nobody can change, and the API refuses to everyone else in the error shape."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import Client

from audit.models import AppendOnlyError, ReadRecord
from audit.services import record_read
from core.errors import InvalidInput
from hotline.services.channels import set_up_bilateral_channel
from tests.crisis.factories import make_author, make_crisis, make_protocol, make_published, report

API = "/api/v1/audit/reads/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def line_ab(region):
    return set_up_bilateral_channel(
        by=region.coordinator, desk_id=region.desk_a.pk, peer_desk_id=region.desk_b.pk
    )


def reads(**filters) -> list[tuple[str, str, str, str]]:
    return [
        (r.username, r.what, r.object_type, r.object_id)
        for r in ReadRecord.objects.filter(**filters).order_by("id")
    ]


# --- the record itself ---------------------------------------------------------------


def test_record_read_copies_who_and_their_roles(region):
    record = record_read(
        user=region.auditor,
        what="crisis.read_not_party",
        object_type="crisis",
        object_id=42,
        desk=region.centre,
        details={"why": "review"},
    )
    record.refresh_from_db()
    assert (record.username, record.roles, record.object_id) == ("audit", "auditor", "42")
    assert record.desk_id == region.centre.pk and record.details == {"why": "review"}


@pytest.mark.parametrize(
    "field, value", [("what", ""), ("object_type", "x" * 65), ("object_id", "")]
)
def test_record_read_refuses_blank_or_overlong_names(region, field, value):
    args = {"what": "w", "object_type": "t", "object_id": 1, field: value}
    with pytest.raises(InvalidInput) as caught:
        record_read(user=region.auditor, **args)
    assert caught.value.details == {"field": field}
    assert ReadRecord.objects.count() == 0


def test_the_model_refuses_to_change_or_delete_a_record(region):
    record = record_read(user=region.auditor, what="w", object_type="t", object_id=1)
    record.what = "something else"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_readrecord SET what = 'rewritten'",
        "DELETE FROM audit_readrecord",
    ],
)
def test_the_database_refuses_update_and_delete(region, sql):
    record_read(user=region.auditor, what="w", object_type="t", object_id=1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert reads() == [("audit", "w", "t", "1")]


def test_the_queryset_bulk_paths_are_refused_by_the_database_too(region):
    record_read(user=region.auditor, what="w", object_type="t", object_id=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        ReadRecord.objects.all().delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        ReadRecord.objects.update(what="x")
    assert ReadRecord.objects.get().what == "w"


# --- the API ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["auditor", "coordinator"])
def test_auditors_and_coordinators_list_and_filter_reads(region, api_client, who):
    record_read(
        user=region.operator_a, what="hotline.transcript", object_type="hotline_line", object_id=7
    )
    record_read(user=region.operator_b, what="crisis.cap_xml", object_type="crisis", object_id=3)
    api_client.force_authenticate(getattr(region, who))

    everything = api_client.get(API)
    assert everything.status_code == 200
    assert [r["username"] for r in everything.json()["results"]] == ["op-b", "op-a"]

    by_user = api_client.get(API, {"user": region.operator_a.pk}).json()["results"]
    assert [(r["what"], r["object_id"]) for r in by_user] == [("hotline.transcript", "7")]
    by_type = api_client.get(API, {"object_type": "crisis"}).json()["results"]
    assert [r["username"] for r in by_type] == ["op-b"]
    assert api_client.get(API, {"since": "2999-01-01T00:00:00Z"}).json()["results"] == []
    assert len(api_client.get(API, {"since": "2000-01-01T00:00:00Z"}).json()["results"]) == 2


@pytest.mark.parametrize("who", ["operator_a", "supervisor_b"])
def test_everyone_else_gets_403_in_the_error_shape(region, api_client, who):
    record_read(user=region.operator_a, what="w", object_type="t", object_id=1)
    api_client.force_authenticate(getattr(region, who))
    response = api_client.get(API)
    assert response.status_code == 403
    assert response.json() == {
        "code": "audit_not_allowed",
        "message": "Only auditors and coordinators may read the audit.",
        "details": {},
    }


def test_anonymous_callers_are_refused(api_client):
    response = api_client.get(API)
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("query", [{"since": "yesterday"}, {"user": "bob"}, {"user": "0"}])
def test_bad_filters_get_400_naming_the_field(region, api_client, query):
    api_client.force_authenticate(region.auditor)
    response = api_client.get(API, query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["details"]["fields"]) == set(query)


def test_there_is_no_way_to_write_through_the_api(region, api_client):
    api_client.force_authenticate(region.auditor)
    response = api_client.post(API, {"what": "x"}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_the_admin_shows_records_but_cannot_change_them(region):
    from django.contrib.admin.sites import site

    admin = site._registry[ReadRecord]
    assert not admin.has_add_permission(None)
    assert not admin.has_change_permission(None)
    assert not admin.has_delete_permission(None)


# --- the hooks: each sensitive read leaves one record --------------------------------


def test_hxl_export_is_recorded(region, api_client):
    api_client.force_authenticate(region.operator_a)
    response = api_client.get("/api/v1/humanitarian/exports/requests.csv?status=open")
    assert response.status_code == 200
    [record] = ReadRecord.objects.all()
    assert (record.username, record.what, record.object_id) == (
        "op-a",
        "humanitarian.hxl_export",
        "requests",
    )
    assert record.details == {"query": "status=open"}


def test_an_unknown_export_records_nothing(region, api_client):
    api_client.force_authenticate(region.operator_a)
    assert api_client.get("/api/v1/humanitarian/exports/unicorns.csv").status_code == 400
    assert reads() == []


def test_protocol_export_is_recorded(region, api_client):
    published = make_published(make_author(username="author-x"))
    api_client.force_authenticate(region.operator_a)
    url = f"/api/v1/protocols/{published.protocol_id}/versions/1/export/?as=json"
    assert api_client.get(url).status_code == 200
    assert reads() == [("op-a", "crisis.protocol_export", "protocol_version", str(published.pk))]
    missing = f"/api/v1/protocols/{published.protocol_id}/versions/9/export/"
    assert api_client.get(missing).status_code == 404
    assert len(reads()) == 1


def test_cap_xml_is_recorded(region, api_client):
    make_protocol()
    crisis = report(region)
    api_client.force_authenticate(region.operator_b)
    assert api_client.get(f"/api/v1/crises/{crisis.pk}/cap.xml").status_code == 200
    assert reads() == [("op-b", "crisis.cap_xml", "crisis", str(crisis.pk))]


def test_transcript_reads_over_the_api_and_the_console_are_recorded(region, api_client, line_ab):
    api_client.force_authenticate(region.operator_a)
    assert api_client.get(f"/api/v1/channels/{line_ab.pk}/messages/").status_code == 200
    console = Client()
    console.force_login(region.operator_b)
    assert console.get(f"/lines/{line_ab.pk}/").status_code == 200
    assert reads() == [
        ("op-a", "hotline.transcript", "hotline_line", str(line_ab.pk)),
        ("op-b", "hotline.transcript", "hotline_line", str(line_ab.pk)),
    ]


def test_a_hidden_line_is_404_and_records_nothing(region, api_client, line_ab):
    api_client.force_authenticate(region.operator_c)
    assert api_client.get(f"/api/v1/channels/{line_ab.pk}/messages/").status_code == 404
    assert reads() == []


def test_crisis_reads_by_the_centre_not_party_are_recorded_and_parties_are_not(region, api_client):
    crisis = make_crisis(region)  # desk A leads, state A affected
    for user in (region.operator_a, region.auditor, region.coordinator):
        api_client.force_authenticate(user)
        assert api_client.get(f"/api/v1/crises/{crisis.pk}/").status_code == 200
    console = Client()
    console.force_login(region.auditor)
    assert console.get(f"/crises/{crisis.pk}/").status_code == 200
    assert console.get(f"/crises/{crisis.pk}/?panel=timeline").status_code == 200  # refresh
    assert reads(what="crisis.read_not_party") == [
        ("audit", "crisis.read_not_party", "crisis", str(crisis.pk)),
        ("coord", "crisis.read_not_party", "crisis", str(crisis.pk)),
        ("audit", "crisis.read_not_party", "crisis", str(crisis.pk)),
    ]


def test_a_coordinator_whose_desk_takes_part_is_not_recorded(region, api_client):
    from crisis.models import CrisisParticipant, ParticipantRole

    crisis = make_crisis(region)
    CrisisParticipant.objects.create(
        crisis=crisis, desk=region.centre, role=ParticipantRole.SUPPORTING
    )
    api_client.force_authenticate(region.coordinator)
    assert api_client.get(f"/api/v1/crises/{crisis.pk}/").status_code == 200
    assert reads() == []
