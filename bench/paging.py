"""Benchmark: paging at a regional scale, from a level's deadline to the mail server.

    DATABASE_URL=postgres://… .venv/bin/python bench/paging.py [--crises 100] [--json]
    DATABASE_URL=postgres://… .venv/bin/python bench/paging.py --smoke  # seconds; make test

Ten member states with three national desks each (30 desks), one on-duty officer per
desk (a daily 24-hour roster shift) with a verified e-mail address. A two-level ladder:
level 1 notifies nobody and expires; level 2 notifies all 30 desks, so when a crisis's
level-1 deadline fires the real escalation handler enters level 2 and pages 30 desks,
and the real delivery handler e-mails each officer through a real SMTP server (aiosmtpd
in this process) — all on one ``celery worker --beat`` (prefork, concurrency 2) against a
private Redis and a scratch PostgreSQL database (``bench_<name>``, created, migrated and
dropped).

Two runs: one crisis, then ``--crises`` crises whose level-1 deadlines are all due at
the same instant. Per run: ``pages`` (crises times 30), ``sent`` (attempts the worker marked
sent), ``duplicates`` (messages beyond one per crisis and officer), ``lost`` (crisis and
officer pairs that got nothing), and ``p50_s``/``p99_s``: over crises, the time from the
level-1 deadline's due time to the last of its 30 e-mails accepted by the mail server.
``--json`` prints one object with the keys of the large run and ``single`` for the other.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

STATES = 10
DESKS_PER_STATE = 3
SMOKE_CRISES = 3
LEAD_SECONDS = 3.0  # arm now, due this much later: the worker is idle when they fire


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def timed_smtp_server():
    """The test suite's SMTP server, with the time each message was accepted."""
    from tests.support.smtp import Inbox, SMTPServer

    class TimedInbox(Inbox):
        def __init__(self):
            super().__init__()
            self.accepted_at: list[float] = []

        async def handle_DATA(self, server, session, envelope):
            answer = await super().handle_DATA(server, session, envelope)
            self.accepted_at.append(time.time())
            return answer

    server = SMTPServer()
    server.inbox = TimedInbox()
    server.controller.handler = server.inbox
    return server.start()


def fixtures() -> tuple[list, object]:
    """30 desks with one officer on duty each (verified e-mail), and the ladder."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from bench.crises import publish_in_place
    from crisis.models import EscalationLevel, Protocol, ProtocolVersion
    from directory.models import Desk, DeskKind, DeskMembership, MemberState, Role
    from paging.models import ContactMethod
    from rosters import services as rosters

    users = get_user_model().objects
    centre = Desk.objects.create(code="ZZ-CENTRE", name="Bench centre", kind=DeskKind.REGIONAL)
    coordinator = users.create_user("bench-coordinator", password=None)
    DeskMembership.objects.create(user=coordinator, desk=centre, role=Role.COORDINATOR)
    desks = []
    for s in range(STATES):
        code = "Z" + "ABCDEFGHIJ"[s] + "Z"
        state = MemberState.objects.create(code=code, name=f"Bench state {code}")
        for d in range(1, DESKS_PER_STATE + 1):
            desk = Desk.objects.create(
                code=f"{code}-{d}",
                name=f"Bench desk {code}-{d}",
                kind=DeskKind.NATIONAL,
                state=state,
                time_zone="Asia/Bangkok",
            )
            officer = users.create_user(f"bench-{code.lower()}-{d}", password=None)
            DeskMembership.objects.create(user=officer, desk=desk, role=Role.OPERATOR)
            ContactMethod.objects.create(
                user=officer,
                kind="email",
                address=f"{officer.username}@example.org",
                verified_at=timezone.now(),
            )
            roster, _ = rosters.open_roster(by=coordinator, desk=desk)
            rosters.add_shift(
                by=coordinator,
                roster=roster,
                person=officer,
                starts_local=datetime(2025, 1, 1, 0, 0),
                duration_minutes=24 * 60,
                rrule="FREQ=DAILY",
            )
            desks.append(desk)
    protocol = Protocol.objects.create(name="Bench paging protocol", category="other")
    version = ProtocolVersion.objects.create(protocol=protocol, number=1)
    EscalationLevel.objects.create(version=version, order=1, name="Watch", timeout_seconds=60)
    level_two = EscalationLevel.objects.create(
        version=version, order=2, name="Everyone", timeout_seconds=3600
    )
    level_two.notify_desks.set(desks)
    # Levels go into a draft (published versions are immutable), then it is published.
    publish_in_place(version)
    return desks, version


def run(n: int, label: str, desks, version, smtp, timeout: float) -> dict:
    from django.utils import timezone

    from bench.crises import arm_level_one_expiry, crises_at_level_one
    from crisis.services.escalation import level_page_subject
    from paging.models import DeliveryAttempt

    crises = crises_at_level_one(n, reference=label, desk=desks[0], version=version)
    due_at = timezone.now() + timedelta(seconds=LEAD_SECONDS)
    arm_level_one_expiry({c.pk: due_at for c in crises})

    expected = n * len(desks)
    inbox = smtp.inbox
    first = inbox.count()
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up and inbox.count() - first < expected:
        time.sleep(0.2)
    time.sleep(1.0)  # late duplicates, if any

    pattern = re.compile(re.escape(label) + r"-(\d+)\b")
    per_pair: Counter = Counter()
    last_at: dict[str, float] = {}
    for message, at in zip(inbox.messages[first:], inbox.accepted_at[first:], strict=False):
        found = pattern.search(message.subject)
        if not found:
            continue
        crisis = found.group(0)
        for address in message.to:
            per_pair[(crisis, address)] += 1
        last_at[crisis] = max(last_at.get(crisis, 0.0), at)
    latencies = [at - due_at.timestamp() for at in last_at.values()]
    sent = DeliveryAttempt.objects.filter(
        page__subject_key__in=[level_page_subject(c, 2, 0) for c in crises], state="sent"
    ).count()
    return {
        "crises": n,
        "pages": expected,
        "sent": sent,
        "received": sum(per_pair.values()),
        "duplicates": sum(count - 1 for count in per_pair.values()),
        "lost": expected - len(per_pair),
        "p50_s": _r(percentile(latencies, 0.5)),
        "p99_s": _r(percentile(latencies, 0.99)),
        "max_s": _r(max(latencies) if latencies else None),
    }


def _r(value):
    return None if value is None else round(value, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crises", type=int, default=100, help="crises paged at once")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--smoke", action="store_true", help=f"{SMOKE_CRISES} crises: proves the bench runs"
    )
    args = parser.parse_args()
    n = SMOKE_CRISES if args.smoke else args.crises

    import django

    django.setup()

    from bench.crises import drop_scratch_database, open_scratch_database
    from tests.support.celery_worker import Worker, broker
    from tests.support.redis import PrivateRedis

    original_name = open_scratch_database()
    if original_name is None:
        return 2

    redis_server = PrivateRedis().start()
    smtp = timed_smtp_server()
    worker = Worker(redis_server.url, concurrency=2, EMAIL_URL=smtp.url, LOG_LEVEL="WARNING")
    report: dict = {}
    try:
        desks, version = fixtures()
        with broker(redis_server.url):
            worker.start()
            if not args.json:
                print("one crisis …", file=sys.stderr)
            single = run(1, "PGONE", desks, version, smtp, timeout=60)
            if not args.json:
                print(f"{n} crises at once …", file=sys.stderr)
            many = run(n, "PGMANY", desks, version, smtp, timeout=60 + n * 2)
            report = {**many, "single": single}
    finally:
        worker.stop()
        smtp.stop()
        redis_server.stop()
        drop_scratch_database(original_name)
    report["load_avg_1m"] = round(os.getloadavg()[0], 2)  # the machine is shared: context
    if args.json:
        print(json.dumps(report))
    else:
        heads = ["crises", "pages", "sent", "duplicates", "lost", "p50_s", "p99_s", "max_s"]
        print("".join(f"{h:>11}" for h in ["run", *heads]))
        for name, row in (("single", report["single"]), ("at once", report)):
            print(f"{name:>11}" + "".join(f"{row[h]!s:>11}" for h in heads))
    ok = all(r["lost"] == 0 and r["duplicates"] == 0 for r in (report, report["single"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
