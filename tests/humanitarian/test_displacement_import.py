"""CSV/HXL import of displacement figures: all rows or none, bad rows named by row and column."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import PayloadTooLarge
from crisis.models import TimelineEntry
from humanitarian.models import DisplacementReport, ImportJob, ImportStatus
from humanitarian.services import displacement
from tests.humanitarian.conftest import API, HXL_FILE, import_displacement, upload
from tests.support.api import body

pytestmark = pytest.mark.django_db


def test_hxl_file_imports_every_row(region, crisis, api_client):
    api_client.force_authenticate(region.operator_a)
    response = upload(api_client, crisis, HXL_FILE)
    assert response.status_code == 201, response.content
    job = response.json()
    assert (job["status"], job["created_count"], job["progress_percent"]) == ("succeeded", 3, 100)
    rows = list(DisplacementReport.objects.order_by("admin1_code", "admin2_code"))
    assert [(r.admin2_code, r.idps, r.refugees) for r in rows] == [
        ("AA-01-01", 1200, 0),
        ("AA-01-02", 800, 150),
        ("", 2500, 40),
    ]
    assert rows[1].assessment_type == "site"
    entry = TimelineEntry.objects.get(crisis=crisis, kind="displacement.imported")
    assert entry.payload["rows"] == 3 and entry.payload["idps"] == 4500
    assert (
        api_client.get(f"{API}/displacement/imports/{job['id']}/").json()["status"] == "succeeded"
    )
    listed = api_client.get(f"{API}/displacement/?crisis={crisis.pk}&state=AAA").json()
    assert listed["count"] == 3


def test_one_bad_row_writes_nothing_and_names_row_and_column(region, crisis, api_client):
    bad = HXL_FILE.replace("2025-11-20,1,site,800", "2025-11-20,1,site,eight hundred")
    api_client.force_authenticate(region.operator_a)
    response = upload(api_client, crisis, bad)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "import_rejected"
    assert body["details"]["errors"] == [
        {
            "row": 4,
            "column": "IDPs (individuals) (#affected+idps+ind)",
            "field": "idps",
            "message": "'eight hundred' is not a whole number of 0 or more",
        }
    ]
    assert "row 4" in body["message"] and "#affected+idps+ind" in body["message"]
    assert not DisplacementReport.objects.exists()
    assert not TimelineEntry.objects.filter(crisis=crisis).exists()
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED and job.created_count == 0


def test_plain_csv_with_several_problems(region, crisis):
    text = (
        "country_code,country_name,admin1_name,admin1_code,reported_on,round,idps,refugees,source\n"
        "AAA,State A,Coast,AA-01,2025-11-20,2,10,0,DTM\n"
        "Thailand,State A,Coast,AA-02,20/11/2026,2,10,0,DTM\n"
        "AAA,State A,Coast,AA-01,2025-11-20,2,10,0,DTM\n"
        "AAA,State A,,AA-03,2025-11-20,0,10,0,DTM\n"
    )
    job = displacement.start_import(
        by=region.operator_a, desk=region.desk_a, crisis=crisis, content=text
    )
    assert job.status == ImportStatus.FAILED
    got = {(e["row"], e["field"]) for e in job.errors}
    assert got == {
        (3, "country_code"),
        (3, "reported_on"),
        (4, "round"),  # repeats row 2's area and round
        (5, "admin1_name"),
    }
    assert not DisplacementReport.objects.exists()


def test_missing_column_is_named(region, crisis):
    text = "country_code,country_name,admin1_name,reported_on,round,idps,refugees,source\n"
    job = displacement.start_import(
        by=region.operator_a,
        desk=region.desk_a,
        crisis=crisis,
        content=text + "AAA,A,B,2025-11-01,1,1,1,x\n",
    )
    assert job.status == ImportStatus.FAILED
    assert job.readable_errors == [
        {
            "row": 1,
            "column": "Admin 1 code (#adm1+code)",
            "message": "column is missing from the file",
        }
    ]


def test_large_file_goes_to_a_worker_with_progress(
    region, crisis, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(displacement, "INLINE_ROWS", 5)
    monkeypatch.setattr(displacement, "PROGRESS_EVERY", 4)
    header = (
        "country_code,country_name,admin1_name,admin1_code,reported_on,round,idps,refugees,source\n"
    )
    text = header + "".join(
        f"AAA,State A,Area {i},AA-{i:02d},2025-11-20,1,{i},0,DTM\n" for i in range(12)
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = displacement.start_import(
            by=region.operator_a, desk=region.desk_a, crisis=crisis, content=text
        )
    assert len(callbacks) == 1  # the Celery task, sent after commit
    assert (job.status, job.total_rows, job.progress_percent) == ("pending", 12, 0)
    # Progress is written as validation goes: watch it from inside the row check.
    seen = []
    validate_row = displacement._validate_row

    def watching(values, err):
        seen.append(ImportJob.objects.get(pk=job.pk).progress_percent)
        return validate_row(values, err)

    monkeypatch.setattr(displacement, "_validate_row", watching)
    displacement.run_import(job_id=job.pk)
    job.refresh_from_db()
    assert sorted(set(seen)) == [0, 33, 66]
    assert job.progress_percent == 100
    assert job.status == ImportStatus.SUCCEEDED and job.created_count == 12
    assert DisplacementReport.objects.count() == 12
    # Running the task again does nothing (only a pending job is taken).
    displacement.run_import(job_id=job.pk)
    assert DisplacementReport.objects.count() == 12


def test_export_can_be_imported_back(region, crisis, api_client):
    import_displacement(region, crisis)
    api_client.force_authenticate(region.operator_a)
    exported = body(api_client.get(f"{API}/exports/displacement.csv?crisis={crisis.pk}")).decode()
    DisplacementReport.objects.all().delete()
    job = displacement.start_import(
        by=region.operator_a, desk=region.desk_a, crisis=crisis, content=exported
    )
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert DisplacementReport.objects.count() == 3


def test_upload_is_sized_and_decoded_once_by_the_service(region, crisis, api_client, monkeypatch):
    api_client.force_authenticate(region.operator_a)
    # A spreadsheet's byte-order mark does not hide the first header.
    plain = (
        "\ufeffcountry_code,country_name,admin1_name,admin1_code,reported_on,round,idps,"
        "refugees,source\nAAA,State A,Coast,AA-01,2025-11-20,2,10,0,DTM\n"
    )
    response = upload(api_client, crisis, plain)
    assert response.status_code == 201, response.content
    assert response.json()["created_count"] == 1
    response = api_client.post(
        f"{API}/displacement/imports/",
        {"crisis": crisis.pk, "file": SimpleUploadedFile("dtm.csv", "é".encode("latin-1"))},
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["code"] == "not_utf8"
    monkeypatch.setattr(displacement, "MAX_FILE_BYTES", len(HXL_FILE) - 1)
    for sent in (HXL_FILE, HXL_FILE.encode()):
        with pytest.raises(PayloadTooLarge) as exc:
            displacement.start_import(
                by=region.operator_a, desk=region.desk_a, crisis=crisis, content=sent
            )
        assert exc.value.code == "file_too_large"
    response = upload(api_client, crisis, HXL_FILE)
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    assert ImportJob.objects.count() == 1  # only the first, good file


def test_a_clash_at_write_time_fails_the_job_and_writes_nothing(region, crisis):
    """Rows that passed validation but meet figures another import wrote meanwhile: the
    write (a COPY on PostgreSQL) is refused as a whole and the job says why."""
    assert import_displacement(region, crisis).status == ImportStatus.SUCCEEDED
    fields = [c.field for c in displacement.COLUMNS]
    valid = [
        {**row, "source": "second upload"}
        for row in DisplacementReport.objects.order_by("pk").values(*fields)
    ]
    job = ImportJob.objects.create(
        crisis=crisis,
        desk=region.desk_a,
        created_by=region.operator_a,
        content=HXL_FILE,
        total_rows=len(valid),
        status=ImportStatus.RUNNING,
    )
    displacement._finish(job, [], valid)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and job.created_count == 0
    assert "same areas and rounds" in job.errors[0]["message"]
    assert set(DisplacementReport.objects.values_list("source", flat=True)) == {"IOM DTM"}
    assert not DisplacementReport.objects.filter(import_job=job).exists()
