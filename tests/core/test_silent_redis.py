"""A Redis that accepts connections and never answers (a dead link, not a refusal): crisis
actions still answer at once, because nothing a response waits for talks to Redis after
the commit. The post-commit channel-layer publish is handed to the server's event loop
and the broker enqueue of a deadline's task to a background thread (``core.events``);
either would otherwise hold the request for its timeout (1 s for a publish, 5 s for
kombu's socket timeout). The full picture under load is the chaos suite's partition."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from knox.models import AuthToken

from crisis.models import Crisis, SituationUpdate
from deadlines.models import Deadline, DeadlineState
from tests.crisis.factories import make_protocol
from tests.support.asgi import AsgiServer, database_url
from tests.support.proxy import CuttableProxy
from tests.support.redis import PrivateRedis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CRISES = 4
#: Anything that waited on Redis took at least its command timeout (1 s).
FAST = 1.0


@pytest.fixture
def silent_redis_server():
    redis = PrivateRedis().start()
    proxy = CuttableProxy(redis.port).start()
    url = f"redis://127.0.0.1:{proxy.port}/0"
    web = AsgiServer(
        database_url=database_url(settings.DATABASES["default"]),
        redis_url=url,
        env={"CELERY_BROKER_URL": url},
    )
    web.start().wait_ready()
    try:
        yield web, proxy
    finally:
        proxy.restore()
        web.stop()
        proxy.stop()
        redis.stop()


def post(web: AsgiServer, path: str, token: str, body: dict) -> tuple[int, dict, float]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{web.port}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310  # loopback
            status, text = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()
    return status, json.loads(text or b"{}"), time.monotonic() - started


def test_crisis_actions_answer_at_once_while_redis_is_silent(region, silent_redis_server):
    web, proxy = silent_redis_server
    make_protocol()  # "maritime": activating a crisis arms its escalation deadline
    operator = AuthToken.objects.create(user=region.operator_a)[1]
    supervisor = AuthToken.objects.create(user=region.supervisor_a)[1]
    report = {"category": "maritime", "title": "Warm-up", "severity": 3,
              "affected_states": ["AAA", "BBB"]}  # fmt: skip
    assert post(web, "/api/v1/crises/", operator, report)[0] == 201  # Redis answering

    proxy.cut()  # open connections dropped, new ones accepted and never answered
    took = []
    for n in range(CRISES):
        status, crisis, seconds = post(
            web, "/api/v1/crises/", operator, {**report, "title": f"Silent {n}"}
        )
        assert status == 201, crisis
        took.append(seconds)
        path = f"/api/v1/crises/{crisis['id']}"
        status, body, seconds = post(web, f"{path}/transition/", supervisor, {"to": "active"})
        assert status == 200, body
        took.append(seconds)
        status, body, seconds = post(web, f"{path}/updates/", operator, {"conditions": "Calm."})
        assert status == 201, body
        took.append(seconds)

    print(f"\nsilent Redis: crisis actions max {max(took) * 1000:.0f} ms (n={len(took)})")
    assert max(took) < FAST, took
    # Committed in full: the deadlines are armed (the sweep fires them if the task is lost).
    silent = Crisis.objects.filter(title__startswith="Silent", status="active")
    assert silent.count() == CRISES
    assert SituationUpdate.objects.filter(crisis__in=silent).count() == CRISES
    assert (
        Deadline.objects.filter(
            state=DeadlineState.PENDING,
            subject_key__in=[f"crisis:{c.pk}:escalation" for c in silent],
        ).count()
        == CRISES
    )
