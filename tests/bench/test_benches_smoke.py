"""Every bench runs in ``make test`` at tiny sizes (``--smoke``): benches rot unless
something runs them (``bench/escalation.py`` once crashed for months in its real-handler
way). The figures mean nothing at these sizes; the keys, the counts and the exit code do.

Each bench runs as its own process, as a person would run it, against a scratch
PostgreSQL database of its own (created and dropped here) and its own private Redis.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import environ
import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture
def scratch_database_url():
    """A DATABASE_URL naming a fresh, empty database beside the suite's."""
    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    name = f"bench_smoke_{uuid.uuid4().hex[:8]}"
    connect = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or "postgres",
        "password": config.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**connect) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    user = connect["user"] + (f":{connect['password']}" if connect["password"] else "")
    yield f"postgres://{user}@{connect['host']}:{connect['port']}/{name}"
    with psycopg.connect(**connect) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_bench(script: str, database_url: str, *args: str, timeout: float) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--smoke", "--json", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout)


EXACTLY_ONCE_KEYS = {"n", "arm_s", "fired", "missed", "duplicates", "p50_lateness_s",
                     "p99_lateness_s", "max_lateness_s"}  # fmt: skip


def test_escalation_bench_runs_every_way_including_the_real_handler(scratch_database_url):
    result = run_bench("escalation.py", scratch_database_url, timeout=600)

    for way in (result, result["baseline"], result["real_handler"]):
        assert way.keys() >= EXACTLY_ONCE_KEYS
        assert way["n"] == 20
    # Nothing missed or fired twice, by the engine or by the real escalation handler.
    for way in (result, result["real_handler"]):
        assert (way["fired"], way["missed"], way["duplicates"]) == (20, 0, 0)
    assert result["ratios"] and result["real_handler"]["ratios"]


def test_hotline_bench_runs_ours_and_the_baseline(scratch_database_url):
    result = run_bench("hotline.py", scratch_database_url, timeout=600)

    assert result["desks"] == 40 and result["sent"] > 0
    # Every message persisted and delivered to every other member of its room, once.
    assert result["persisted"] == result["sent"] == result["acks"]
    assert result["delivered"] == result["expected"] > 0
    assert (result["lost"], result["duplicates"]) == (0, 0)
    assert {"p50_ms", "p99_ms", "server_cpu_pct"} <= result.keys()
    assert {"sent", "delivered", "lost", "p99_ms"} <= result["baseline"].keys()


def test_paging_bench_pages_every_desk_once(scratch_database_url):
    result = run_bench("paging.py", scratch_database_url, timeout=600)

    for run in (result, result["single"]):
        # 30 desks paged per crisis, every e-mail accepted once by the mail server.
        assert run["pages"] == run["crises"] * 30 == run["sent"] == run["received"]
        assert (run["duplicates"], run["lost"]) == (0, 0)
        assert run["p50_s"] is not None and run["p99_s"] >= run["p50_s"]
    assert result["crises"] == 3


def test_api_bench_reads_every_endpoint_as_both_roles(scratch_database_url):
    result = run_bench("api.py", scratch_database_url, timeout=600)

    names = {
        "crisis_list", "crisis", "line_history", "aid_board", "gap_analysis",
        "console_dashboard", "console_crisis", "console_line", "console_aid_board",
    }  # fmt: skip
    assert set(result["endpoints"]) == {
        f"{n}:{r}" for n in names for r in ("operator", "coordinator")
    }
    for row in result["endpoints"].values():
        assert row["requests"] == result["sizes"]["requests"]
        assert 0 < row["p50_ms"] <= row["p99_ms"]
        # Counted at a tenth of the volume and at the whole: a per-row query would differ.
        assert row["queries"] == row["queries_small"] > 0
    assert result["baseline"]["p99_ms"] > 0


def test_import_bench_imports_and_streams_every_row(scratch_database_url):
    result = run_bench("import.py", scratch_database_url, timeout=600)

    rows = result["rows"]
    # All or nothing, through a real worker: every row written. (How often the progress
    # figure was seen moving is a figure: at smoke size the import may finish between two
    # polls. Progress itself: tests/humanitarian/test_displacement_import.py.)
    assert result["import"]["rows"] == rows and result["import"]["progress_updates"] >= 0
    assert result["import"]["run_s"] <= result["import"]["seconds"]
    assert result["import_tenth"]["rows"] == rows // 10
    assert result["baseline"]["rows"] == rows // 10
    for kind, export in result["exports"].items():
        assert export["rows"] == rows, kind
        assert 0 < export["ttfb_s"] <= export["seconds"]
        assert export["peak_rss_mb"] > 0 and export["rss_growth_mb"] >= 0
