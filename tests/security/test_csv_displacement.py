"""Displacement CSV: the importing desk's own state only (finding 4), and files that were
500s are 400s naming the problem (finding 8): a field over 128 KiB, a NUL character."""

import pytest

from humanitarian.models import DisplacementReport, ImportJob, ImportStatus
from humanitarian.services import displacement
from tests.humanitarian.conftest import HXL_FILE, make_crisis, upload

pytestmark = pytest.mark.django_db

#: State A's file with its first area relabelled as state B's.
B_ROW = "BBB,State B,Coast,BB-01,Harbour,BB-01-01,2025-11-20,1,baseline,1200,0,IOM DTM"


def b_file() -> str:
    header = HXL_FILE.splitlines()[:2]
    return "\n".join([*header, B_ROW, ""])


def test_a_desk_cannot_import_another_states_figures(region, api_client):
    crisis = make_crisis(region, affected=[region.state_a, region.state_b])
    api_client.force_authenticate(region.operator_a)
    response = upload(api_client, crisis, b_file())
    assert response.status_code == 400, response.content
    error = response.json()["details"]["errors"][0]
    assert (error["row"], error["field"]) == (3, "country_code")
    assert "'BBB'" in error["message"] and "AAA" in error["message"]
    assert not DisplacementReport.objects.exists()
    # The rightful state's import of the same area and round is not blocked.
    api_client.force_authenticate(region.operator_b)
    response = upload(api_client, crisis, b_file())
    assert response.status_code == 201, response.content
    assert DisplacementReport.objects.get().reported_by_desk == region.desk_b


def test_the_regional_centre_imports_for_the_states_the_crisis_affects(region):
    crisis = make_crisis(region, affected=[region.state_b])
    job = displacement.start_import(
        by=region.coordinator, desk=region.centre, crisis=crisis, content=b_file()
    )
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    job = displacement.start_import(
        by=region.coordinator, desk=region.centre, crisis=crisis, content=HXL_FILE
    )
    assert job.status == ImportStatus.FAILED
    assert {e["field"] for e in job.errors} == {"country_code"}


def test_a_field_over_128_kib_is_a_400_naming_the_line(region, api_client):
    crisis = make_crisis(region)
    long_source = HXL_FILE.replace("IOM DTM", '"' + "x" * 200_000 + '"', 1)
    api_client.force_authenticate(region.operator_a)
    response = upload(api_client, crisis, long_source)
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "invalid_csv" and body["details"]["row"] == 3
    assert ImportJob.objects.count() == 0 and not DisplacementReport.objects.exists()


def test_a_nul_in_the_file_is_a_400(region, api_client):
    crisis = make_crisis(region)
    api_client.force_authenticate(region.operator_a)
    response = upload(api_client, crisis, HXL_FILE.replace("Harbour", "Har\x00bour"))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "nul_in_file" and body["details"]["row"] == 3
    assert ImportJob.objects.count() == 0 and not DisplacementReport.objects.exists()


def test_an_uploaded_file_is_read_in_chunks_and_not_past_the_limit(region, monkeypatch):
    class Upload:
        """A file that would go on for ever: only the limit plus one chunk is read."""

        read_bytes = 0

        def read(self, size=-1):
            assert 0 < size <= displacement.READ_CHUNK_BYTES
            Upload.read_bytes += size
            return b"x" * size

    monkeypatch.setattr(displacement, "MAX_FILE_BYTES", 10 * displacement.READ_CHUNK_BYTES)
    crisis = make_crisis(region)
    with pytest.raises(Exception) as refused:
        displacement.start_import(
            by=region.operator_a, desk=region.desk_a, crisis=crisis, content=Upload()
        )
    assert getattr(refused.value, "code", None) == "file_too_large"
    assert getattr(refused.value, "status", None) == 413
    assert Upload.read_bytes == 11 * displacement.READ_CHUNK_BYTES
