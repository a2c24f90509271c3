"""Benchmark: the deadline engine vs plain Celery ETA tasks, with a real worker and beat.

    DATABASE_URL=postgres://… .venv/bin/python bench/escalation.py [--n 10000] [--json]
    DATABASE_URL=postgres://… .venv/bin/python bench/escalation.py --smoke  # seconds; make test

For each N (100, 1,000, 10,000 by default) it arms N deadlines due uniformly over the same
10-second window (``--window``) and waits for them, three ways, against one private Redis and one
``celery worker --beat`` (prefork, concurrency 2):

- ``baseline``: N plain Celery ETA tasks, no database row (what naive timers do);
- ``engine``: ``schedule_deadlines_bulk`` with the minimal handler (``deadline.probe``:
  one row written per firing, without a unique constraint, so duplicates show);
- ``real_handler``: the crisis-escalation handler (bench/escalation_real.py), for N up
  to ``--real-max`` (default 10,000; slot tasks fire it in batches, see
  docs/escalation.md, Benchmark).

Each way runs on a fresh worker with an empty broker, so leftovers never compete.

Reported per way: arm time, fired, missed, duplicates, lateness (fired - due) p50/p99/max.
``--json`` prints one JSON object (``n``, ``arm_s``, ``fired``, ``missed``, ``duplicates``,
``p50_lateness_s``, ``p99_lateness_s``, ``max_lateness_s``, ``baseline`` with the same
keys, ``ratios`` to the baseline, and ``real_handler`` if run); for several sizes, one
object with ``runs``. It runs in a scratch database next to DATABASE_URL's
(``bench_<name>``, created, migrated and dropped), never in the database itself.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

WINDOW_SECONDS = 10.0
#: ``--smoke``: every way at a tiny size over a short window, so ``make test`` proves the
#: bench still runs (benches rot unless something runs them); its figures mean nothing.
SMOKE_N = 20
SMOKE_WINDOW_SECONDS = 2.0


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def summarize(n: int, arm_s: float, fired_counts: dict, lateness: list[float]) -> dict:
    fired = len(fired_counts)
    return {
        "n": n,
        "arm_s": round(arm_s, 4),
        "fired": fired,
        "missed": n - fired,
        "duplicates": sum(c - 1 for c in fired_counts.values()),
        "p50_lateness_s": _r(percentile(lateness, 0.5)),
        "p99_lateness_s": _r(percentile(lateness, 0.99)),
        "max_lateness_s": _r(max(lateness) if lateness else None),
    }


def _r(value):
    return None if value is None else round(value, 4)


def wait_until(predicate, timeout: float) -> bool:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if predicate():
            return True
        time.sleep(0.25)
    return predicate()


def lead_seconds(n: int) -> float:
    """Start the window after arming: generous enough for the baseline's slow enqueue."""
    return 2.0 + n / 1200


# --- the three ways ------------------------------------------------------------------------


def run_baseline(n: int, client, app) -> dict:
    from bench.baseline import RESULTS_KEY, record

    client.delete(RESULTS_KEY)
    start = time.time() + lead_seconds(n)
    dues = [start + WINDOW_SECONDS * i / n for i in range(n)]
    t0 = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for i, due in enumerate(dues):
            record.apply_async((i, due), eta=datetime.fromtimestamp(due, tz=UTC), producer=producer)
    arm_s = time.perf_counter() - t0
    wait_until(
        lambda: client.llen(RESULTS_KEY) >= n, start + WINDOW_SECONDS + 30 + n / 250 - time.time()
    )
    time.sleep(1.0)  # late duplicates
    counts: dict[int, int] = {}
    lateness = []
    for raw in client.lrange(RESULTS_KEY, 0, -1):
        index, due, ran = raw.decode().split()
        counts[int(index)] = counts.get(int(index), 0) + 1
        lateness.append(float(ran) - float(due))
    return summarize(n, arm_s, counts, lateness)


def run_engine(n: int, label: str) -> dict:
    from django.db import transaction
    from django.db.models import Count
    from django.utils import timezone

    from deadlines.models import DeadlineProbe
    from deadlines.services import PROBE_KIND, DeadlineSpec, schedule_deadlines_bulk

    start = timezone.now() + timedelta(seconds=lead_seconds(n))
    specs = [
        DeadlineSpec(
            PROBE_KIND,
            f"bench:{label}:{i}",
            start + timedelta(seconds=WINDOW_SECONDS * i / n),
            {"label": label},
        )
        for i in range(n)
    ]
    t0 = time.perf_counter()
    with transaction.atomic():
        ids = schedule_deadlines_bulk(specs)
    arm_s = time.perf_counter() - t0
    probes = DeadlineProbe.objects.filter(label=label)
    end = (start - timezone.now()).total_seconds() + WINDOW_SECONDS
    wait_until(lambda: probes.values("deadline_id").distinct().count() >= n, end + 30)
    time.sleep(1.0)
    counts = dict(
        probes.filter(deadline_id__in=ids).values_list("deadline_id").annotate(c=Count("id"))
    )
    lateness = [p.lateness_seconds for p in probes.only("due_at", "fired_at")]
    return summarize(n, arm_s, counts, lateness)


def run_real_handler(n: int, label: str) -> dict | None:
    """The crisis-escalation handler under the same load (see bench/escalation_real.py)."""
    try:
        from bench.escalation_real import run
    except ImportError:
        return None
    return run(n, label, lead_seconds(n), WINDOW_SECONDS, summarize, wait_until)


# --- driver -----------------------------------------------------------------------------------


def ratios(ours: dict, base: dict) -> dict:
    out = {}
    for key in ("arm_s", "p50_lateness_s", "p99_lateness_s", "max_lateness_s"):
        if ours.get(key) is not None and base.get(key):
            out[key] = round(ours[key] / base[key], 3)
    if ours["arm_s"]:
        out["arm_rate_vs_baseline"] = round(base["arm_s"] / ours["arm_s"], 1)
    return out


def main() -> int:
    global WINDOW_SECONDS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, help="one size (default: 100, 1000 and 10000)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument(
        "--window",
        type=float,
        default=WINDOW_SECONDS,
        help=f"seconds over which the N deadlines fall due (default {WINDOW_SECONDS:g})",
    )
    parser.add_argument(
        "--smoke", action="store_true", help=f"N={SMOKE_N} over {SMOKE_WINDOW_SECONDS:g} s"
    )
    parser.add_argument(
        "--real-max",
        type=int,
        default=10000,
        help="run the real handler only up to this N (default 10000)",
    )
    args = parser.parse_args()
    sizes = [args.n] if args.n else [100, 1000, 10000]
    WINDOW_SECONDS = args.window
    if args.smoke:
        WINDOW_SECONDS, sizes = SMOKE_WINDOW_SECONDS, [SMOKE_N]

    import django

    django.setup()
    import redis

    from bench.crises import drop_scratch_database, open_scratch_database
    from tests.support.celery_worker import Worker, broker
    from tests.support.redis import PrivateRedis

    original_name = open_scratch_database()
    if original_name is None:
        return 2

    server = PrivateRedis().start()
    client = redis.Redis.from_url(server.url)
    worker = Worker(
        server.url,
        concurrency=2,
        extra_args=("--include", "bench.baseline"),
        DEADLINE_SWEEP_INTERVAL_SECONDS=2,
        DEADLINE_RESCUE_GRACE_SECONDS=1,
    )

    def fresh(what: str, n: int, run):
        """Each way gets a fresh worker and an empty broker: no leftovers compete."""
        if not args.json:
            print(f"n={n}: {what} …", file=sys.stderr)
        client.flushall()
        worker.start()
        try:
            return run()
        finally:
            worker.stop()
            client.flushall()

    runs = []
    try:
        with broker(server.url) as app:
            for n in sizes:
                label = f"bench-{n}-{int(time.time())}"
                base = fresh("baseline", n, lambda n=n: run_baseline(n, client, app))
                ours = fresh("engine", n, lambda n=n, label=label: run_engine(n, label))
                result = {
                    **ours,
                    "window_s": WINDOW_SECONDS,
                    "baseline": base,
                    "ratios": ratios(ours, base),
                }
                if n <= args.real_max:
                    real = fresh(
                        "real handler",
                        n,
                        lambda n=n, label=label: run_real_handler(n, f"{label}-real"),
                    )
                    if real is not None:
                        result["real_handler"] = {**real, "ratios": ratios(real, base)}
                runs.append(result)
                if not args.json:
                    print_run(result)
    finally:
        worker.stop()
        server.stop()
        drop_scratch_database(original_name)
    if args.json:
        print(json.dumps(runs[0] if len(runs) == 1 else {"runs": runs}, indent=2))
    ok = all(r["missed"] == 0 and r["duplicates"] == 0 for r in runs)
    return 0 if ok else 1


def print_run(result: dict) -> None:
    rows = [("engine", result), ("baseline", result["baseline"])]
    if "real_handler" in result:
        rows.append(("real handler", result["real_handler"]))
    print(f"\nN = {result['n']}")
    heads = [("arm s", 9), ("fired", 9), ("missed", 9), ("dup", 6)]
    heads += [("p50 s", 9), ("p99 s", 9), ("max s", 9)]
    print(" " * 14 + "".join(f"{h:>{w}}" for h, w in heads))
    for name, r in rows:
        cells = [r["arm_s"], r["fired"], r["missed"], r["duplicates"]]
        cells += [r["p50_lateness_s"], r["p99_lateness_s"], r["max_lateness_s"]]
        print(
            f"{name:14}" + "".join(f"{c:>9}" if i != 3 else f"{c:>6}" for i, c in enumerate(cells))
        )
    print(f"ratios to baseline: {result['ratios']}")


if __name__ == "__main__":
    sys.exit(main())
