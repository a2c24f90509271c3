"""Benchmark: the API's and the console's reads at a regional volume.

    DATABASE_URL=postgres://… .venv/bin/python bench/api.py [--json]
    DATABASE_URL=postgres://… .venv/bin/python bench/api.py --smoke   # seconds; make test

Seeds a scratch database (``bench_<name>`` beside DATABASE_URL's, created, migrated and
dropped) with the demo directory and a regional volume — 10,000 crises of which 1,000
open, 100 hotline lines of 10,000 messages each, 5,000 assistance requests and 5,000
pledges — then starts one real ASGI server (uvicorn, as deployed) and reads with 20
concurrent clients, as a national desk's operator and as the regional coordinator:

- ``crisis_list``: ``/api/v1/crises/?status=active``
- ``crisis``: ``/api/v1/crises/{id}/``
- ``line_history``: ``/api/v1/channels/{id}/messages/?after_seq=…`` (a page mid-line)
- ``aid_board``: ``/api/v1/humanitarian/requests/?crisis={id}``
- ``gap_analysis``: ``/api/v1/humanitarian/gaps/?crisis={id}``
- ``console_dashboard``, ``console_crisis``, ``console_line``, ``console_aid_board``:
  the console's pages (time to first byte: the pages are rendered whole on the server).

Per endpoint and role: ``p50_ms``, ``p99_ms`` (latency of the whole response over HTTP)
and ``queries`` (SQL statements for one request, counted in-process) at a small volume
and at the full one (``queries_small``): a page whose count grows with the data has a
per-row query. ``--json`` prints one object: ``endpoints`` (one entry per endpoint and
role), ``seed_s``, ``sizes``, and a ``baseline`` (``/healthz``: the same server's floor
under the same clients) with ``ratio_p99`` per endpoint against it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

FULL = {"crises": 10_000, "open": 1_000, "lines": 100, "messages": 10_000, "aid": 5_000,
        "clients": 20, "requests": 400}  # fmt: skip
#: ``--smoke``: tiny sizes so ``make test`` proves the bench still runs; figures mean nothing.
SMOKE = {"crises": 40, "open": 10, "lines": 3, "messages": 60, "aid": 30,
         "clients": 2, "requests": 4}  # fmt: skip
#: Query counts are taken first at this fraction of the volume, then at the full one.
SMALL_FRACTION = 0.1


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


# --- seeding ---------------------------------------------------------------------------


class Volume:
    """What the reads point at, filled as the seed grows."""

    def __init__(self):
        self.crisis_ids: list[int] = []
        self.open_ids: list[int] = []
        self.line_ids: list[int] = []
        self.operator = None
        self.coordinator = None
        self.operator_desk = None


def seed_directory(volume: Volume) -> None:
    from django.contrib.auth import get_user_model

    from crisis.demo import seed
    from directory.models import Desk, DeskMembership, Role

    seed()
    User = get_user_model()
    volume.coordinator = User.objects.get(username="coordinator")
    operator_membership = (
        DeskMembership.objects.filter(role=Role.OPERATOR, desk__kind="national")
        .select_related("user", "desk")
        .order_by("desk__code")
        .first()
    )
    volume.operator = operator_membership.user
    volume.operator_desk = operator_membership.desk
    volume.desks = list(
        Desk.objects.filter(is_active=True).select_related("state").order_by("code")
    )


def seed_crises(volume: Volume, total: int, open_: int) -> None:
    """``total`` crises (``open_`` of them active), each led by a desk of one state and
    with that state affected; the operator's desk leads or is party to a share."""
    from django.utils import timezone

    from crisis.models import Crisis, CrisisParticipant, CrisisStatus, ParticipantRole

    now = timezone.now()
    desks = [d for d in volume.desks if d.kind == "national"] or volume.desks
    start = len(volume.crisis_ids)
    rows = []
    for i in range(start, start + total):
        lead = desks[i % len(desks)]
        is_open = i - start < open_
        rows.append(
            Crisis(
                reference=f"CR-B-{i:06d}-{uuid.uuid4().hex[:4]}",
                title=f"Bench crisis {i}",
                category="flood",
                severity=1 + i % 5,
                status=CrisisStatus.ACTIVE if is_open else CrisisStatus.CLOSED,
                reported_by_desk=lead,
                lead_desk=lead,
                activated_at=now - timedelta(hours=i % 240),
                closed_at=None if is_open else now - timedelta(hours=i % 200),
            )
        )
    created = Crisis.objects.bulk_create(rows, batch_size=2000)
    Through = Crisis.affected_states.through
    Through.objects.bulk_create(
        [Through(crisis_id=c.pk, memberstate_id=c.lead_desk.state_id) for c in created],
        batch_size=5000,
    )
    participants = [
        CrisisParticipant(crisis=c, desk=c.lead_desk, role=ParticipantRole.LEAD) for c in created
    ]
    participants += [
        CrisisParticipant(crisis=c, desk=volume.operator_desk, role=ParticipantRole.AFFECTED)
        for c in created
        if c.lead_desk_id != volume.operator_desk.pk and c.pk % 3 == 0
    ]
    CrisisParticipant.objects.bulk_create(participants, batch_size=5000)
    volume.crisis_ids += [c.pk for c in created]
    volume.open_ids += [c.pk for c in created if c.status == CrisisStatus.ACTIVE]


def seed_lines(volume: Volume, lines: int, messages: int) -> None:
    """``lines`` bilateral lines, each with ``messages`` messages; the operator's desk is on
    every line (the read is of a line the operator may read)."""
    from django.db.models import F

    from hotline.models import ChannelKind, ChannelMember, HotlineChannel, Message

    others = [d for d in volume.desks if d.pk != volume.operator_desk.pk]
    for n in range(lines):
        other = others[(len(volume.line_ids) + n) % len(others)]
        channel = HotlineChannel.objects.create(
            kind=ChannelKind.CRISIS_ROOM,
            name=f"Bench line {len(volume.line_ids) + n}",
            crisis_ref=f"bench-{len(volume.line_ids) + n}",
        )
        ChannelMember.objects.bulk_create(
            [
                ChannelMember(channel=channel, desk=volume.operator_desk),
                ChannelMember(channel=channel, desk=other),
            ]
        )
        senders = (volume.operator_desk, other)
        batch = []
        for seq in range(1, messages + 1):
            batch.append(
                Message(
                    channel=channel,
                    seq=seq,
                    sender_desk=senders[seq % 2],
                    body=f"Situation line {seq}: road to the coast open, 40 families moved.",
                    client_msg_id=uuid.uuid4(),
                )
            )
            if len(batch) == 5000:
                Message.objects.bulk_create(batch)
                batch = []
        if batch:
            Message.objects.bulk_create(batch)
        HotlineChannel.objects.filter(pk=channel.pk).update(last_seq=F("last_seq") + messages)
        volume.line_ids.append(channel.pk)


def seed_aid(volume: Volume, n: int) -> None:
    """``n`` requests and ``n`` pledges spread over the open crises (the first open crisis,
    the one read, gets a tenth of them)."""
    from bench.crises import open_requests_with_pledges

    desks = [d for d in volume.desks if d.kind == "national"] or volume.desks
    crises = volume.open_ids
    open_requests_with_pledges(
        n,
        crisis_for=lambda i: crises[0] if i % 10 == 0 else crises[i % len(crises)],
        desk_for=lambda i: desks[i % len(desks)],
    )


def seed(volume: Volume, sizes: dict, fraction: float) -> None:
    seed_crises(volume, int(sizes["crises"] * fraction), int(sizes["open"] * fraction) or 1)
    seed_lines(volume, max(1, int(sizes["lines"] * fraction)), sizes["messages"])
    seed_aid(volume, int(sizes["aid"] * fraction))


# --- reading ---------------------------------------------------------------------------


def targets(volume: Volume) -> dict[str, str]:
    """Endpoint name -> path, for the crisis, line and board the reads point at."""
    crisis, line = volume.open_ids[0], volume.line_ids[0]
    from hotline.models import HotlineChannel

    middle = HotlineChannel.objects.get(pk=line).last_seq // 2
    return {
        "crisis_list": "/api/v1/crises/?status=active",
        "crisis": f"/api/v1/crises/{crisis}/",
        "line_history": f"/api/v1/channels/{line}/messages/?after_seq={middle}",
        "aid_board": f"/api/v1/humanitarian/requests/?crisis={crisis}",
        "gap_analysis": f"/api/v1/humanitarian/gaps/?crisis={crisis}",
        "console_dashboard": "/",
        "console_crisis": f"/crises/{crisis}/",
        "console_line": f"/lines/{line}/",
        "console_aid_board": f"/aid/{crisis}/",
    }


def count_queries(user, paths: dict[str, str]) -> dict[str, int]:
    """SQL statements for one request to each path, in-process (Django's test client)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    counts = {}
    for name, path in paths.items():
        client.get(path)  # warm: sessions, content types, caches
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{name} {path} answered {response.status_code} in-process")
        counts[name] = len(captured.captured_queries)
    return counts


def session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def read_all(base: str, cookie: str, paths: dict, clients: int, requests: int) -> dict:
    """``requests`` reads of each path spread over ``clients`` concurrent clients; per path
    the list of latencies (s). Any answer but 200 stops the bench (a read must work)."""
    import httpx

    headers = {"Cookie": cookie, "Accept": "application/json, text/html"}
    latencies: dict[str, list[float]] = {name: [] for name in paths}

    async def client_loop(index: int, http: httpx.AsyncClient) -> None:
        for name, path in paths.items():
            for _ in range(index, requests, clients):
                started = time.perf_counter()
                response = await http.get(path)
                latencies[name].append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(
                        f"{name} {path} answered {response.status_code}: {response.text[:300]}"
                    )

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as h:
        await asyncio.gather(*(client_loop(i, h) for i in range(clients)))
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (make test)")
    parser.add_argument(
        "--requests", type=int, help="reads per endpoint and role (the volume is unchanged)"
    )
    args = parser.parse_args()
    sizes = dict(SMOKE if args.smoke else FULL)
    if args.requests:
        sizes["requests"] = args.requests
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The reads are measured, not the two-step login: sessions are logged in directly, as
    # `make run` does for the demo (MFA stays on in production; see docs/security.md).
    os.environ["MFA_REQUIRED"] = "false"

    import django

    django.setup()
    from bench.crises import drop_scratch_database, open_scratch_database
    from tests.support.asgi import AsgiServer, database_url
    from tests.support.redis import PrivateRedis

    def say(text: str) -> None:
        if not args.json:
            print(text, file=sys.stderr, flush=True)

    original_name = open_scratch_database()
    if original_name is None:
        return 2
    from django.db import connection

    redis = PrivateRedis().start()
    server = None
    try:
        volume = Volume()
        started = time.perf_counter()
        seed_directory(volume)
        say(f"seeding {SMALL_FRACTION:.0%} of the volume …")
        seed(volume, sizes, SMALL_FRACTION)
        paths = targets(volume)
        small = {
            "operator": count_queries(volume.operator, paths),
            "coordinator": count_queries(volume.coordinator, paths),
        }
        say("seeding the rest …")
        seed(volume, sizes, 1 - SMALL_FRACTION)
        seed_s = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        paths = targets(volume)
        full = {
            "operator": count_queries(volume.operator, paths),
            "coordinator": count_queries(volume.coordinator, paths),
        }
        cookies = {role: session_cookie(getattr(volume, role)) for role in full}
        connection.close()

        server = AsgiServer(
            database_url=database_url(connection.settings_dict), redis_url=redis.url
        ).start()
        server.wait_ready()
        base = f"http://127.0.0.1:{server.port}"
        floor = asyncio.run(
            read_all(base, "", {"healthz": "/healthz"}, sizes["clients"], sizes["requests"])
        )["healthz"]
        baseline = {
            "p50_ms": round(percentile(floor, 0.5) * 1000, 1),
            "p99_ms": round(percentile(floor, 0.99) * 1000, 1),
        }
        endpoints = {}
        for role, cookie in cookies.items():
            say(f"reading as the {role} …")
            role_started = time.perf_counter()
            try:
                latencies = asyncio.run(
                    read_all(base, cookie, paths, sizes["clients"], sizes["requests"])
                )
            except RuntimeError:  # a read failed: the server's log says why
                print(Path(server.log.name).read_text()[-4000:], file=sys.stderr)
                raise
            for name, values in latencies.items():
                p99 = percentile(values, 0.99) * 1000
                endpoints[f"{name}:{role}"] = {
                    "path": paths[name],
                    "requests": len(values),
                    "p50_ms": round(percentile(values, 0.5) * 1000, 1),
                    "p99_ms": round(p99, 1),
                    "queries": full[role][name],
                    "queries_small": small[role][name],
                    "ratio_p99": round(p99 / max(baseline["p99_ms"], 0.1), 1),
                }
            say(
                f"  {role}: {time.perf_counter() - role_started:.0f} s: "
                + json.dumps({k: v for k, v in endpoints.items() if k.endswith(f":{role}")})
            )
    finally:
        if server is not None:
            server.kill()
        redis.stop()
        connection.close()
        drop_scratch_database(original_name)

    result = {
        "sizes": sizes,
        "seed_s": round(seed_s, 1),
        "baseline": baseline,
        "endpoints": endpoints,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"seeded in {result['seed_s']} s: {sizes}")
    print(f"{'endpoint':<34}{'p50 ms':>9}{'p99 ms':>9}{'x floor':>9}{'queries':>9}{'small':>7}")
    print(f"{'/healthz (floor)':<34}{baseline['p50_ms']:>9}{baseline['p99_ms']:>9}")
    for name, row in endpoints.items():
        print(
            f"{name:<34}{row['p50_ms']:>9}{row['p99_ms']:>9}{row['ratio_p99']:>9}"
            f"{row['queries']:>9}{row['queries_small']:>7}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
