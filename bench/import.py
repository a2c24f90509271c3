"""Benchmark: a displacement import and the HXL exports at 100,000 rows.

    DATABASE_URL=postgres://… .venv/bin/python bench/import.py [--rows 100000] [--json]
    DATABASE_URL=postgres://… .venv/bin/python bench/import.py --smoke   # seconds; make test

In a scratch database (``bench_<name>`` beside DATABASE_URL's, created, migrated, dropped),
with the demo directory, a national desk reports a crisis and uploads an IOM DTM-shaped
CSV of ``--rows`` rows through the real service (``start_import``); a real Celery worker
runs the import, all or nothing, as in production. Measured:

- ``import``: seconds from upload to the job's success (``seconds``), the worker's run
  alone (``run_s``), the upload call (``upload_s``), how long the job waited for a worker
  (``queued_s``), rows written, and how the progress figure moved while it ran (the
  distinct ``processed_rows`` values another connection saw: ``progress_updates``);
- ``exports``: each HXL export (displacement, requests, pledges — ``--rows`` rows each)
  streamed from one real ASGI server (uvicorn), read over HTTP: ``seconds``, time to
  first byte, rows, and the server's memory: ``peak_rss_mb`` (the process's high-water
  mark after the export) and ``rss_growth_mb`` (over its resident size before it);
- ``baseline``: the same displacement export at a tenth of the rows, first, on the same
  server: flat memory means the full export grows the server no more than the tenth did.

``--json`` prints one object with ``rows``, ``import`` (``rows``, ``seconds``,
``run_s``, ``upload_s``, ``queued_s``, ``progress_updates``, ``peak_rss_mb`` of the
worker) and ``exports`` (per kind ``rows``, ``seconds``, ``ttfb_s``, ``peak_rss_mb``,
``rss_growth_mb``) and ``baseline``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

FULL_ROWS = 100_000
#: ``--smoke``: above the inline limit (so the worker runs it), small enough for seconds.
SMOKE_ROWS = 1_200

HEADER = (
    "Country code,Country,Admin 1,Admin 1 code,Admin 2,Admin 2 code,Reporting date,Round,"
    "Assessment type,IDPs (individuals),Refugees (individuals),Source\r\n"
    "#country+code,#country+name,#adm1+name,#adm1+code,#adm2+name,#adm2+code,"
    "#date+reported,#meta+round,#meta+assessment,#affected+idps+ind,"
    "#affected+refugees+ind,#meta+source\r\n"
)


def dtm_csv(state_code: str, state_name: str, rows: int, round_: int) -> str:
    """``rows`` distinct areas of one state for one DTM round."""
    lines = [HEADER]
    for n in range(rows):
        province = n % 77 + 1
        lines.append(
            f"{state_code},{state_name},Province {province},{state_code[:2]}-{province:02d},"
            f"District {n},{state_code[:2]}-{province:02d}-{n:06d},2026-11-20,{round_},"
            f"site,{100 + n % 900},{n % 50},IOM DTM\r\n"
        )
    return "".join(lines)


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident, high-water resident) of a process, in MB (Linux /proc)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


class ProgressWatch(threading.Thread):
    """Reads a job's ``processed_rows`` on a connection of its own while the worker runs."""

    def __init__(self, job_id: int):
        super().__init__(daemon=True)
        self.job_id = job_id
        self.seen: set[int] = set()
        self.stop = threading.Event()

    def run(self):
        from django.db import connection

        from humanitarian.models import ImportJob

        try:
            while not self.stop.wait(0.05):
                row = ImportJob.objects.filter(pk=self.job_id).values("processed_rows").first()
                if row:
                    self.seen.add(row["processed_rows"])
        finally:
            connection.close()


def seed(rows: int):
    """The demo directory, a national desk's crisis, and ``rows`` assistance requests and
    pledges for it (bulk-written: the exports, not the aid workflow, are measured)."""
    from bench.crises import open_requests_with_pledges
    from crisis.demo import seed as seed_directory
    from crisis.services.crises import report_crisis
    from directory.models import DeskMembership, Role

    seed_directory()
    membership = (
        DeskMembership.objects.filter(role=Role.OPERATOR, desk__kind="national")
        .select_related("user", "desk__state")
        .order_by("desk__code")
        .first()
    )
    operator, desk = membership.user, membership.desk
    crisis = report_crisis(
        by=operator, desk=desk, category="flood", title="Bench floods", severity=3,
        affected_state_codes=[desk.state.code],
    )  # fmt: skip
    open_requests_with_pledges(rows, crisis_for=lambda i: crisis.pk, desk_for=lambda i: desk)
    return operator, desk, crisis


def run_import(operator, desk, crisis, rows: int, round_: int) -> dict:
    from humanitarian.models import ImportJob, ImportStatus
    from humanitarian.services.displacement import start_import

    content = dtm_csv(desk.state.code, desk.state.name, rows, round_)
    started = time.perf_counter()
    job = start_import(by=operator, desk=desk, crisis=crisis, content=content.encode())
    uploaded = time.perf_counter() - started
    watch = ProgressWatch(job.pk)
    watch.start()
    deadline = time.monotonic() + 600
    while True:
        job.refresh_from_db()
        if job.status in {ImportStatus.SUCCEEDED, ImportStatus.FAILED}:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"import job {job.pk} still {job.status} after 600 s")
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    watch.stop.set()
    watch.join()
    if job.status != ImportStatus.SUCCEEDED:
        raise RuntimeError(f"import failed: {job.errors[:3]}")
    ImportJob.objects.filter(pk=job.pk).update(content="")  # as retention would, later
    return {
        "rows": job.created_count,
        "seconds": round(seconds, 2),
        "run_s": round((job.finished_at - job.started_at).total_seconds(), 2),
        "upload_s": round(uploaded, 2),
        "queued_s": round((job.started_at - job.created_at).total_seconds(), 2),
        "progress_updates": len(watch.seen - {0, rows}),
    }


def export(base: str, cookie: str, pid: int, kind: str, crisis_id: int) -> dict:
    import httpx

    rss_before, _ = memory_mb(pid)
    started = time.perf_counter()
    ttfb, size, lines = None, 0, 0
    with httpx.stream(
        "GET",
        f"{base}/api/v1/humanitarian/exports/{kind}.csv",
        params={"crisis": crisis_id},
        headers={"Cookie": cookie},
        timeout=300,
    ) as response:
        if response.status_code != 200:
            raise RuntimeError(f"export {kind} answered {response.status_code}")
        for chunk in response.iter_bytes():
            if ttfb is None:
                ttfb = time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\n")  # (a "\r\n" may straddle two chunks)
    seconds = time.perf_counter() - started
    _, peak = memory_mb(pid)
    return {
        "rows": lines - 2,  # the header and hashtag rows
        "bytes": size,
        "seconds": round(seconds, 3),  # (as many digits as ttfb_s: it never exceeds this)
        "ttfb_s": round(ttfb or seconds, 3),
        "peak_rss_mb": round(peak, 1),
        "rss_growth_mb": round(max(peak - rss_before, 0.0), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, help=f"rows per import and export ({FULL_ROWS:,})")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_ROWS:,} rows (make test)")
    args = parser.parse_args()
    rows = args.rows or (SMOKE_ROWS if args.smoke else FULL_ROWS)
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["MFA_REQUIRED"] = "false"  # sessions are logged in directly, as `make run`

    def say(text: str) -> None:
        if not args.json:
            print(text, file=sys.stderr, flush=True)

    from tests.support.redis import PrivateRedis

    redis = PrivateRedis().start()
    os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = redis.url

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from bench.crises import drop_scratch_database, open_scratch_database
    from tests.support.asgi import AsgiServer, database_url
    from tests.support.celery_worker import Worker

    original_name = open_scratch_database()
    if original_name is None:
        redis.stop()
        return 2
    worker = server = None
    try:
        say(f"seeding {rows:,} requests and pledges …")
        operator, desk, crisis = seed(rows)
        from crisis.services.crises import report_crisis

        tenth = report_crisis(
            by=operator, desk=desk, category="flood", title="Bench floods (a tenth)",
            severity=2, affected_state_codes=[desk.state.code],
        )  # fmt: skip
        worker = Worker(redis.url, beat=False, concurrency=1).start()
        say(f"importing {rows // 10:,} rows, then {rows:,} …")
        small_import = run_import(operator, desk, tenth, rows // 10, round_=1)
        result_import = run_import(operator, desk, crisis, rows, round_=1)
        result_import["peak_rss_mb"] = round(memory_mb(worker.proc.pid)[1], 1)

        client = Client()
        client.force_login(operator)
        cookie = (
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
        connection.close()
        server = AsgiServer(
            database_url=database_url(connection.settings_dict), redis_url=redis.url
        ).start()
        server.wait_ready()
        base = f"http://127.0.0.1:{server.port}"
        say("exporting …")
        # First, the baseline: the same export at a tenth of the rows, on the same server.
        baseline = export(base, cookie, server.proc.pid, "displacement", tenth.pk)
        exports = {
            kind: export(base, cookie, server.proc.pid, kind, crisis.pk)
            for kind in ("displacement", "requests", "pledges")
        }
    finally:
        if server is not None:
            server.kill()
        if worker is not None:
            worker.stop()
        connection.close()
        drop_scratch_database(original_name)
        redis.stop()

    result = {
        "rows": rows,
        "import": result_import,
        "import_tenth": small_import,
        "exports": exports,
        "baseline": baseline,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    imp = result_import
    print(
        f"import of {imp['rows']:,} rows: {imp['seconds']} s (upload {imp['upload_s']} s, "
        f"waiting for a worker {imp['queued_s']} s, worker run {imp['run_s']} s),"
    )
    print(f"  {imp['progress_updates']} progress figures seen; worker peak {imp['peak_rss_mb']} MB")
    print(f"  (a tenth: {small_import['seconds']} s)")
    print(f"{'export':<22}{'rows':>9}{'s':>8}{'ttfb s':>9}{'peak MB':>9}{'growth MB':>11}")
    for kind, row in [("displacement (a tenth)", baseline), *exports.items()]:
        print(
            f"{kind:<22}{row['rows']:>9,}{row['seconds']:>8}{row['ttfb_s']:>9}"
            f"{row['peak_rss_mb']:>9}{row['rss_growth_mb']:>11}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
