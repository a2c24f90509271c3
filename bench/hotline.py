"""Hotline fan-out benchmark: our hotline vs a bare Channels ``group_send`` baseline.

    DATABASE_URL=postgres://…/h3 .venv/bin/python bench/hotline.py --desks 1000 --rate 100 \\
        --seconds 20 [--servers 1] [--json]
    DATABASE_URL=postgres://…/h3 .venv/bin/python bench/hotline.py --smoke  # seconds; make test

Real uvicorn server process(es) against PostgreSQL and a private Redis; the load comes
from a separate client process using the ``websockets`` library on loopback: C desks
(one connection each) in crisis rooms of 20, messages from random members at R/s.
Measured at every receiving desk: send→deliver latency (p50, p99, max), lost and
duplicated deliveries; plus messages persisted per second and server CPU. The same load
then goes through the baseline (``bench/baseline_asgi.py``). ``--json`` prints one
object: desks, rate, sent, delivered, lost, duplicates, p50_ms, p99_ms, max_ms,
persisted_per_s, server_cpu_pct, baseline {…same latency keys}, ratio_p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROOM_SIZE = 20
DRAIN_SECONDS = 30.0  # after the last send: what has not arrived by then counts as lost


# --- client process (the load) --------------------------------------------------------------
def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


async def run_clients(spec: dict, mode: str, rate: float, seconds: float, deflate: bool) -> dict:
    import resource

    import websockets

    compression = "deflate" if deflate else None

    desks = spec["desks"]  # [{token, room, channel, desk, url?}]
    rooms: dict[int, list[int]] = {}
    for i, d in enumerate(desks):
        rooms.setdefault(d["room"], []).append(i)
    latencies: list[float] = []
    seen: set[tuple[str, int]] = set()
    counts = {"delivered": 0, "duplicates": 0, "acks": 0}
    conns: list = [None] * len(desks)
    subscribed = asyncio.Semaphore(0)
    sem = asyncio.Semaphore(50)

    async def open_one(i: int):
        d = desks[i]
        async with sem:
            if mode == "ours":
                ws = await websockets.connect(
                    d["url"], additional_headers={"Authorization": f"Token {d['token']}"},
                    open_timeout=60, max_queue=None, ping_interval=None, compression=compression,
                )  # fmt: skip
                await ws.send(json.dumps({"type": "subscribe", "channel": d["channel"]}))
            else:
                ws = await websockets.connect(
                    f"{spec['url']}{d['room']}/",
                    open_timeout=60,
                    max_queue=None,
                    ping_interval=None,
                )
                subscribed.release()
            conns[i] = ws
        try:
            async for raw in ws:
                now = time.monotonic()
                frame = json.loads(raw)
                if mode == "ours":
                    kind = frame.get("type")
                    if kind == "subscribed":
                        subscribed.release()
                        continue
                    if kind == "sent":
                        counts["acks"] += 1
                        continue
                    if kind != "message" or frame["sender_desk"] == d["desk"]:
                        continue
                    key, sent_at = frame["client_msg_id"], float(frame["body"])
                else:
                    if frame["from"] == i:
                        continue
                    key, sent_at = frame["k"], frame["t"]
                if (key, i) in seen:
                    counts["duplicates"] += 1
                    continue
                seen.add((key, i))
                counts["delivered"] += 1
                latencies.append((now - sent_at) * 1000)
        except websockets.ConnectionClosed:
            pass

    readers = [asyncio.create_task(open_one(i)) for i in range(len(desks))]
    for _ in desks:
        await asyncio.wait_for(subscribed.acquire(), 120)
    print("READY", flush=True)
    await asyncio.sleep(1.0)
    usage_start = resource.getrusage(resource.RUSAGE_SELF)
    wall_start = time.monotonic()

    expected = 0
    sent = 0
    total = int(rate * seconds)
    start = time.monotonic()
    for n in range(total):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        i = random.randrange(len(desks))
        d = desks[i]
        key = str(uuid.uuid4())
        now = time.monotonic()
        if mode == "ours":
            body = repr(now)
            frame = {"type": "send", "channel": d["channel"], "client_msg_id": key, "body": body}
        else:
            frame = {"k": key, "t": now, "from": i}
        await conns[i].send(json.dumps(frame))
        sent += 1
        expected += len(rooms[d["room"]]) - 1
    send_seconds = time.monotonic() - start
    drain_until = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < drain_until and (
        counts["delivered"] < expected or (mode == "ours" and counts["acks"] < sent)
    ):
        await asyncio.sleep(0.05)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = usage.ru_utime + usage.ru_stime - usage_start.ru_utime - usage_start.ru_stime
    client_wall = time.monotonic() - wall_start
    print("DONE", flush=True)
    for ws in conns:
        await ws.close()
    for task in readers:
        task.cancel()
    return {
        "sent": sent,
        "send_seconds": round(send_seconds, 2),
        "acks": counts["acks"],
        "expected": expected,
        "delivered": counts["delivered"],
        "lost": expected - counts["delivered"],
        "duplicates": counts["duplicates"],
        "p50_ms": _round(percentile(latencies, 0.50)),
        "p99_ms": _round(percentile(latencies, 0.99)),
        "max_ms": _round(max(latencies) if latencies else None),
        "client_cpu_pct": round(100 * client_cpu / client_wall, 1),
    }


def _round(value):
    return None if value is None else round(value, 1)


def client_main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec")
    parser.add_argument("--mode")
    parser.add_argument("--rate", type=float)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--out")
    parser.add_argument("--deflate", action="store_true")
    args = parser.parse_args(argv)
    spec = json.loads(Path(args.spec).read_text())
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(run_clients(spec, args.mode, args.rate, args.seconds, args.deflate))
    Path(args.out).write_text(json.dumps(result))


# --- orchestration ----------------------------------------------------------------------------
def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/h3")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def state_code(n: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "XYZ"[n // 676] + letters[(n // 26) % 26] + letters[n % 26]


def prepare(desk_count: int) -> list[dict]:
    """C bench desks (one per state, one operator each, with a token), in new crisis
    rooms of 20. Desks and people are reused between runs; rooms are new each run."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from knox.models import AuthToken, get_digest_token
    from knox.settings import CONSTANTS, knox_settings

    from directory.models import Desk, DeskKind, DeskMembership, MemberState, Role
    from hotline.services.channels import open_crisis_room

    User = get_user_model()
    codes = [state_code(n) for n in range(desk_count)]
    MemberState.objects.bulk_create(
        [MemberState(code=c, name=f"Bench state {c}") for c in codes], ignore_conflicts=True
    )
    states = dict(MemberState.objects.filter(code__in=codes).values_list("code", "id"))
    Desk.objects.bulk_create(
        [Desk(code=f"BENCH-{c}", name=f"Bench desk {c}", kind=DeskKind.NATIONAL,
              state_id=states[c]) for c in codes],
        ignore_conflicts=True,
    )  # fmt: skip
    desks = dict(
        Desk.objects.filter(code__in=[f"BENCH-{c}" for c in codes]).values_list("code", "id")
    )
    password = make_password(None)
    User.objects.bulk_create(
        [User(username=f"bench-{c.lower()}", password=password) for c in codes],
        ignore_conflicts=True,
    )
    users = dict(
        User.objects.filter(username__in=[f"bench-{c.lower()}" for c in codes]).values_list(
            "username", "id"
        )
    )
    DeskMembership.objects.bulk_create(
        [DeskMembership(user_id=users[f"bench-{c.lower()}"], desk_id=desks[f"BENCH-{c}"],
                        role=Role.OPERATOR) for c in codes],
        ignore_conflicts=True,
    )  # fmt: skip
    # A new API token per person and run (the database keeps only hashes, as knox does).
    expiry = timezone.now() + knox_settings.TOKEN_TTL
    tokens, rows = {}, []
    for uid in users.values():
        digest, tokens[uid] = get_digest_token()
        rows.append(
            AuthToken(digest=digest, token_key=tokens[uid][: CONSTANTS.TOKEN_KEY_LENGTH],
                      user_id=uid, expiry=expiry)
        )  # fmt: skip
    AuthToken.objects.bulk_create(rows)
    out = []
    run = uuid.uuid4().hex[:6]
    for room_index, offset in enumerate(range(0, desk_count, ROOM_SIZE)):
        room_codes = codes[offset : offset + ROOM_SIZE]
        channel = open_crisis_room(
            by=None,
            name=f"bench {run} room {room_index}",
            desk_ids=[desks[f"BENCH-{c}"] for c in room_codes],
        )
        for c in room_codes:
            out.append(
                {
                    "token": tokens[users[f"bench-{c.lower()}"]],
                    "room": room_index,
                    "channel": channel.pk,
                    "desk": desks[f"BENCH-{c}"],
                }
            )
    return out


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError):
            pass
    return total


def run_load(
    spec: dict,
    mode: str,
    rate: float,
    seconds: float,
    server_pids: list[int],
    profile=None,
    deflate=False,
) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_path.write_text(json.dumps(spec))
        proc = subprocess.Popen(
            [sys.executable, __file__, "client", "--spec", str(spec_path), "--mode", mode,
             "--rate", str(rate), "--seconds", str(seconds), "--out", str(out_path)]
            + (["--deflate"] if deflate else []),
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        cpu_start = wall_start = None
        try:
            for line in proc.stdout:
                if line.startswith("READY"):
                    cpu_start, wall_start = cpu_seconds(server_pids), time.monotonic()
                    if profile:  # py-spy (pip install py-spy) on the first server process
                        subprocess.Popen(
                            ["py-spy", "record", "-p", str(server_pids[0]), "-o", profile,
                             "-d", str(int(seconds)), "-f", "raw", "--idle"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        )  # fmt: skip
                elif line.startswith("DONE"):
                    cpu = cpu_seconds(server_pids) - cpu_start
                    wall = time.monotonic() - wall_start
            proc.wait(timeout=seconds + DRAIN_SECONDS + 120)
        finally:
            if proc.poll() is None:
                proc.kill()
        if proc.returncode != 0:
            raise RuntimeError(f"client process failed ({proc.returncode})")
        result = json.loads(out_path.read_text())
    result["server_cpu_pct"] = round(100 * cpu / wall, 1)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--desks", type=int, default=100)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--servers", type=int, default=1, help="web processes for ours")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", help="write a py-spy profile of our server here")
    parser.add_argument(
        "--deflate", action="store_true", help="clients ask for permessage-deflate (both runs)"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes (40 desks, 20 msg/s, 2 s, both runs): proves the bench runs",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.desks, args.rate, args.seconds = 40, 20.0, 2.0

    setup_django()
    from django.conf import settings

    from hotline.models import Message
    from tests.support.asgi import AsgiServer, database_url
    from tests.support.redis import PrivateRedis

    desks = prepare(args.desks)
    redis_server = PrivateRedis().start()
    env = {
        # One desk may send far more than a person would: lift the per-connection limit.
        "HOTLINE_WS_RATE_PER_SECOND": "100000",
        "HOTLINE_WS_BURST": "100000",
        "LOG_LEVEL": "ERROR",
        # Production settings: no query recording (DEBUG), persistent DB connections.
        "DEBUG": "false",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "CONN_MAX_AGE": "300",
    }
    url = database_url(settings.DATABASES["default"])
    channels = sorted({d["channel"] for d in desks})
    report = {"desks": args.desks, "rate": args.rate, "seconds": args.seconds,
              "deflate": args.deflate, "servers": args.servers}  # fmt: skip
    try:
        servers = [
            AsgiServer(database_url=url, redis_url=redis_server.url, env=env)
            for _ in range(args.servers)
        ]
        for server in servers:
            server.start()
        try:
            for server in servers:
                server.wait_ready()
            for n, d in enumerate(desks):  # spread desks over the web processes
                d["url"] = servers[n % len(servers)].ws_url
            pids = [s.proc.pid for s in servers]
            ours = run_load({"desks": desks}, "ours", args.rate, args.seconds, pids,
                            profile=args.profile, deflate=args.deflate)  # fmt: skip
        finally:
            for server in servers:
                server.stop()
        persisted = Message.objects.filter(channel_id__in=channels).count()
        report.update(ours)
        report["persisted"] = persisted
        report["persisted_per_s"] = round(persisted / max(ours["send_seconds"], 0.001), 1)
        if not args.no_baseline:
            base = AsgiServer(
                database_url=url,
                redis_url=redis_server.url,
                env=env,
                app="bench.baseline_asgi:application",
            )
            base.start().wait_ready()
            try:
                spec = {"desks": desks, "url": f"ws://127.0.0.1:{base.port}/ws/room/"}
                baseline = run_load(spec, "baseline", args.rate, args.seconds, [base.proc.pid],
                                    deflate=args.deflate)  # fmt: skip
            finally:
                base.stop()
            report["baseline"] = {
                k: baseline[k]
                for k in ("sent", "delivered", "lost", "duplicates", "p50_ms", "p99_ms",
                          "max_ms", "server_cpu_pct", "client_cpu_pct")
            }  # fmt: skip
            if baseline["p99_ms"] and ours["p99_ms"] is not None:
                report["ratio_p99"] = round(ours["p99_ms"] / baseline["p99_ms"], 2)
    finally:
        redis_server.stop()
    report["load_avg_1m"] = round(os.getloadavg()[0], 2)  # the machine is shared: context
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>16}: {value}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        client_main(sys.argv[2:])
    else:
        main()
