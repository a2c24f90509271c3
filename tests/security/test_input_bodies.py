"""Request bodies and uploads are bounded (issue 14, finding 6): 413 in the one error
shape, decided from Content-Length, or while a body without one arrives (ASGI), or while
an upload is read, never after reading it whole."""

import asyncio
import json

import pytest
from django.core.asgi import get_asgi_application
from django.core.files.uploadedfile import SimpleUploadedFile

from core.middleware import LimitRequestBodyASGI
from humanitarian.models import DisplacementReport, ImportJob
from tests.humanitarian.conftest import API, HXL_FILE, make_crisis

pytestmark = pytest.mark.django_db


def test_content_length_over_the_limit_is_413_before_reading(region, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    for path in ("/api/v1/auth/token/", "/crises/new/"):
        response = client.post(path, data="x" * 1001, content_type="application/json")
        assert response.status_code == 413, (path, response.content)
        body = response.json()
        assert body["code"] == "too_large" and body["details"]["limit_bytes"] == 1000


def test_an_upload_over_the_limit_is_413_and_no_job_is_made(region, api_client, client, settings):
    settings.UPLOAD_MAX_BYTES = len(HXL_FILE) - 1
    crisis = make_crisis(region)
    api_client.force_authenticate(region.operator_a)
    response = api_client.post(
        f"{API}/displacement/imports/",
        {"crisis": crisis.pk, "file": SimpleUploadedFile("dtm.csv", HXL_FILE.encode())},
        format="multipart",
    )
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "too_large"
    client.force_login(region.operator_a)
    response = client.post(
        f"/aid/{crisis.pk}/import/",
        {"file": SimpleUploadedFile("dtm.csv", HXL_FILE.encode())},
    )
    assert response.status_code == 413, response.content
    assert ImportJob.objects.count() == 0 and DisplacementReport.objects.count() == 0


def test_a_multipart_body_over_the_whole_limit_is_413(region, client, settings):
    settings.REQUEST_BODY_MAX_BYTES = 2000
    client.force_login(region.operator_a)
    crisis = make_crisis(region)
    response = client.post(
        f"/aid/{crisis.pk}/import/", {"file": SimpleUploadedFile("dtm.csv", b"x" * 3000)}
    )
    assert response.status_code == 413
    assert ImportJob.objects.count() == 0


def run_asgi(app, scope, chunks):
    """Drive ``app`` like a server would: the body in ``chunks``, no Content-Length."""
    sent = []

    async def main():
        queue = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
            for i, c in enumerate(chunks)
        ]
        pulled = 0

        async def receive():
            nonlocal pulled
            if queue:
                pulled += 1
                return queue.pop(0)
            await asyncio.sleep(3600)  # the client waits for the answer

        async def send(message):
            sent.append(message)

        await asyncio.wait_for(app(scope, receive, send), timeout=30)
        return pulled

    pulled = asyncio.run(main())
    return sent, pulled


def http_scope(path: str, content_type: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", content_type.encode())],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_is_cut_off_at_the_limit_over_asgi(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    app = LimitRequestBodyASGI(get_asgi_application())
    chunks = [b"x" * 400] * 100  # 40 000 bytes, no Content-Length
    sent, pulled = run_asgi(app, http_scope("/api/v1/auth/token/", "application/json"), chunks)
    assert pulled == 3  # stopped reading at the chunk that crossed 1000 bytes
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["code"] == "too_large"


@pytest.mark.django_db(transaction=True)
def test_a_body_within_the_limit_reaches_django(region):
    app = LimitRequestBodyASGI(get_asgi_application())
    chunks = [b'{"username": "op-a", ', b'"password": "pw-for-tests"}']
    scope = http_scope("/api/v1/auth/token/", "application/json")
    scope["headers"].append((b"content-length", str(len(b"".join(chunks))).encode()))
    sent, _ = run_asgi(app, scope, chunks)
    assert sent[0]["status"] == 200, sent
