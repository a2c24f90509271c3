"""Structured logs: a request id kept or made, echoed, and carried with the crisis and
line the URL names into the request's log lines and, through a real Celery worker, into
the lines of the task it enqueued; with ``LOG_FORMAT=json`` every line is one JSON
object."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys

import httpx
import pytest
from django.db import connection
from knox.models import AuthToken

from core.logs import ContextFilter, JsonFormatter
from humanitarian.models import ImportJob, ImportStatus
from tests.humanitarian.conftest import make_crisis
from tests.support.asgi import ROOT, AsgiServer, database_url
from tests.support.celery_worker import Worker, wait_for

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_lines():
    """Log lines as the JSON handler writes them (the handler of ``LOG_FORMAT=json``)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.mark.django_db
def test_a_well_formed_request_id_is_kept_and_any_other_replaced(client):
    for given in ("abc-123", "0f8e.trace_ID-9", "x" * 64):
        assert client.get("/healthz", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    for bad in ("", "has space", "x" * 65, "semi;colon", 'quote"d', "é"):
        made = client.get("/healthz", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert HEX32.fullmatch(made), (bad, made)
    first, second = (client.get("/healthz")["X-Request-ID"] for _ in range(2))
    assert HEX32.fullmatch(first) and first != second


@pytest.mark.django_db
def test_each_request_writes_one_json_line_with_its_ids(client, json_lines):
    client.get("/api/v1/crises/4321/", HTTP_X_REQUEST_ID="req-crisis")
    client.get("/api/v1/channels/77/", HTTP_X_REQUEST_ID="req-line")
    client.get("/healthz", HTTP_X_REQUEST_ID="req-plain")
    lines = [line for line in json_lines() if line["logger"] == "core.requests"]
    by_id = {line["request_id"]: line for line in lines}
    assert len(lines) == 3 and set(by_id) == {"req-crisis", "req-line", "req-plain"}
    crisis = by_id["req-crisis"]
    assert crisis["crisis_id"] == 4321 and "channel_id" not in crisis
    assert crisis["route"] == "crisis-detail" and crisis["status"] in (401, 403)
    assert crisis["method"] == "GET" and crisis["path"] == "/api/v1/crises/4321/"
    assert crisis["level"] == "INFO" and crisis["time"].startswith("20")
    assert by_id["req-line"]["channel_id"] == 77
    assert by_id["req-plain"]["status"] == 200 and "crisis_id" not in by_id["req-plain"]
    # Nothing is left bound once the request is over.
    logging.getLogger("after").warning("outside any request")
    assert "request_id" not in json_lines()[-1]


def test_an_unknown_log_format_is_refused():
    env = {**os.environ, "LOG_FORMAT": "xml", "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0 and "LOG_FORMAT must be plain or json" in result.stderr


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_request_id_reaches_the_worker_that_runs_its_task(region, private_redis):
    """A real web process takes an upload (501 rows: handed to a worker) with an
    X-Request-ID; a real worker runs the import. Both write JSON lines only, and the
    worker's lines about the task carry the request's id."""
    crisis = make_crisis(region)
    _, key = AuthToken.objects.create(user=region.operator_a)
    env = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "CELERY_BROKER_URL": private_redis.url}
    server = AsgiServer(
        database_url=database_url(connection.settings_dict), redis_url=private_redis.url, env=env
    )
    worker = Worker(private_redis.url, beat=False, concurrency=1, LOG_FORMAT="json")
    try:
        server.start()
        worker.start()
        server.wait_ready()
        rows = "".join(
            f"AAA,State A,Area {i},AA-{i:03d},2025-11-20,1,{i},0,DTM\n" for i in range(501)
        )
        content = (
            "country_code,country_name,admin1_name,admin1_code,reported_on,round,idps,"
            "refugees,source\n" + rows
        )
        response = httpx.post(
            f"http://127.0.0.1:{server.port}/api/v1/humanitarian/displacement/imports/",
            data={"crisis": str(crisis.pk)},
            files={"file": ("dtm.csv", content.encode(), "text/csv")},
            headers={"Authorization": f"Token {key}", "X-Request-ID": "e2e-upload-1"},
            timeout=30,
        )
        assert response.status_code in (200, 201, 202), response.text
        assert response.headers["X-Request-ID"] == "e2e-upload-1"

        def finished():
            job = ImportJob.objects.order_by("-pk").first()
            return job is not None and job.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)

        wait_for(finished, timeout=60, what="the worker to run the import")
        assert ImportJob.objects.get().status == ImportStatus.SUCCEEDED

        def json_lines(text: str) -> list[dict]:
            lines = [line for line in text.splitlines() if line.strip()]
            parsed = []
            for line in lines:
                try:
                    parsed.append(json.loads(line))
                except ValueError:
                    raise AssertionError(f"not a JSON line: {line!r}") from None
            return parsed

        web = json_lines(open(server.log.name).read())  # noqa: SIM115
        upload = [line for line in web if line.get("request_id") == "e2e-upload-1"]
        assert [line["logger"] for line in upload] == ["core.requests"], upload
        assert upload[0]["status"] in (200, 201, 202)

        task = "humanitarian.tasks.run_displacement_import"
        wait_for(
            lambda: any(
                line.get("request_id") == "e2e-upload-1" and "succeeded" in line["message"]
                for line in json_lines(worker.log())
            ),
            timeout=20,
            what="the worker's line saying the task succeeded",
        )
        carried = [line for line in json_lines(worker.log()) if line.get("request_id")]
        assert carried and all(line["request_id"] == "e2e-upload-1" for line in carried)
        assert {line["task_name"] for line in carried} == {task}
        assert all(line["task_id"] for line in carried)
    finally:
        worker.stop()
        server.stop()
