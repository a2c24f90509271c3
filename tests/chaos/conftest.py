"""The chaos suite's cluster (one per module: it takes ~20 s to start) and its figures:
a table at the end of the run, and ``var/chaos-figures.json`` (``CHAOS_FIGURES`` to put
it elsewhere) for docs/operations.md."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.chaos.cluster import Cluster

ROOT = Path(__file__).resolve().parents[2]
FAULTS = ["kill_web", "kill_worker", "restart_redis", "partition_web_redis", "restart_postgres"]

#: fault -> figures, in the order run.
RESULTS: dict[str, dict] = {}


def figures_path() -> Path:
    return Path(os.environ.get("CHAOS_FIGURES") or ROOT / "var" / "chaos-figures.json")


def record(figures: dict) -> None:
    RESULTS[figures["fault"]] = figures
    path = figures_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(list(RESULTS.values()), indent=2) + "\n")


COLUMNS = [
    ("fault", lambda f: f["fault"]),
    ("down s", lambda f: f["fault_s"]),
    ("acked", lambda f: f["hotline"]["acknowledged"]),
    ("stored", lambda f: f["hotline"]["stored"]),
    ("lost", lambda f: f["hotline"]["lost"]),
    ("dup", lambda f: f["hotline"]["duplicated"]),
    ("not live", lambda f: f["hotline"]["undelivered_live"]),
    ("unanswered", lambda f: f["hotline"]["sends_unanswered"]),
    ("send p99 down s", lambda f: f["hotline"]["send_p99_during_fault_s"]),
    ("catch-up s", lambda f: f["hotline"]["catch_up_s"]),
    ("ddl due", lambda f: f["deadlines"]["due"]),
    ("missed", lambda f: f["deadlines"]["missed"]),
    ("ddl dup", lambda f: f["deadlines"]["duplicated"]),
    ("late max s", lambda f: f["deadlines"]["lateness_max_s"]),
    ("http req", lambda f: f["http"]["requests"]),
    ("failed", lambda f: f["http"]["failed"]),
    ("written twice", lambda f: f["http"]["written_twice_by_retry"]),
    ("action p99 down s", lambda f: f["http"]["crisis_action_p99_during_fault_s"]),
]


def table(results: list[dict]) -> str:
    """A Markdown table, one row per fault (pasted into docs/operations.md)."""
    head = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "|" + "|".join(" --- " for _ in COLUMNS) + "|"
    rows = ["| " + " | ".join(str(get(f)) for _, get in COLUMNS) + " |" for f in results]
    return "\n".join([head, rule, *rows])


def pytest_terminal_summary(terminalreporter):
    if RESULTS:
        terminalreporter.section("chaos figures")
        terminalreporter.write_line(table(list(RESULTS.values())))
        terminalreporter.write_line(f"(JSON: {figures_path()})")


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker):
    from django.db import connection

    running = Cluster(FAULTS)
    try:
        running.start(dict(connection.settings_dict))
        yield running
    finally:
        running.keep_logs(figures_path().parent / "chaos-logs")
        running.stop()
