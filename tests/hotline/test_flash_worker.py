"""Flash escalation and line checks with a real Celery worker (and beat) on a private
broker, short deadlines, and websocket clients watching what each party is told."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from deadlines.models import Deadline
from hotline.models import ChannelEvent, HotlineChannel, LineCheck
from hotline.services.escalation import flash_subject
from tests.support.celery_worker import Worker, broker
from tests.support.redis import PrivateRedis

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ACK_SECONDS = 2


@pytest.fixture
def private_broker():
    server = PrivateRedis().start()
    try:
        with broker(server.url):
            yield server
    finally:
        server.stop()


def start_worker(url: str, **env) -> Worker:
    # Events (channel layer, hotline topics) go to the Redis this test listens on; tasks
    # go to the private broker.
    return Worker(url, REDIS_URL=settings.REDIS_URL, CELERY_BROKER_URL=url, **env).start()


@pytest.fixture
def fast_line(line_ab):
    HotlineChannel.objects.filter(pk=line_ab.pk).update(ack_deadline_seconds=ACK_SECONDS)
    return line_ab


async def poll(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = await database_sync_to_async(predicate)()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_unacked_flash_escalates_each_step_and_an_ack_stops_it(
    region, fast_line, private_broker, ws_client
):
    worker = await asyncio.to_thread(start_worker, private_broker.url)
    try:
        sender = await ws_client(region.operator_a)
        desk_b = await ws_client(region.operator_b)
        supervisor_b = await ws_client(region.supervisor_b)
        coordinator = await ws_client(region.coordinator)
        await sender.subscribe(fast_line.pk)
        unacked = await sender.send_message(fast_line.pk, "FLASH one", priority="flash")
        acked = await sender.send_message(fast_line.pk, "FLASH two", priority="flash")
        await desk_b.send(type="ack", message=acked["id"], ref="ack")
        await desk_b.expect("ok", ref="ack")

        # What each party is told, in order: the desk, its supervisors, the coordinator.
        to_desk = await desk_b.expect("escalation", timeout=15, message=unacked["id"])
        to_supervisor = await supervisor_b.expect("escalation", timeout=15, step=2)
        to_coordinator = await coordinator.expect("escalation", timeout=15, step=3)
        assert (to_desk["step"], to_desk["level"]) == (1, "desk")
        assert to_supervisor["level"] == "supervisors" and to_supervisor["desks"] == [
            region.desk_b.pk
        ]
        assert to_coordinator["level"] == "coordinator"
        # The sender sees every step on the channel.
        seen = [await sender.expect("escalation", timeout=5) for _ in range(3)]
        assert [(f["message"], f["step"]) for f in seen] == [(unacked["id"], n) for n in (1, 2, 3)]

        # The acknowledged flash never escalated, and its deadline is cancelled.
        events = await database_sync_to_async(list)(
            ChannelEvent.objects.filter(channel=fast_line, kind="escalated").values_list(
                "data", flat=True
            )
        )
        assert {e["message"] for e in events} == {unacked["id"]} and len(events) == 3
        states = await database_sync_to_async(list)(
            Deadline.objects.filter(subject_key=flash_subject(acked["id"])).values_list(
                "state", flat=True
            )
        )
        assert states == ["cancelled"]
    finally:
        await asyncio.to_thread(worker.stop)


async def test_beat_line_check_unanswered_degrades_the_line_and_alerts_the_coordinator(
    region, line_ab, private_broker, ws_client
):
    worker = await asyncio.to_thread(
        start_worker,
        private_broker.url,
        HOTLINE_LINE_CHECK_EVERY_SECONDS=1,
        HOTLINE_LINE_CHECK_TIMEOUT_SECONDS=2,
    )
    try:
        coordinator = await ws_client(region.coordinator)
        alert = await coordinator.expect("hotline.line_degraded", timeout=20)
        assert alert["channel"] == line_ab.pk and alert["line_status"] == "degraded"
        assert sorted(alert["missing_desks"]) == sorted([region.desk_a.pk, region.desk_b.pk])
        channel = await database_sync_to_async(HotlineChannel.objects.get)(pk=line_ab.pk)
        assert channel.line_status == "degraded"

        # Both desks answer the next check: the line is OK again.
        a, b = await ws_client(region.operator_a), await ws_client(region.operator_b)

        def next_pending():
            return LineCheck.objects.filter(channel=line_ab, status="pending").first()

        check = await poll(next_pending, timeout=10, what="the next line check")
        for n, desk in enumerate((a, b)):
            await desk.send(type="ack", message=check.message_id, ref=n)
            await desk.expect("ok", ref=n)

        def passed():
            return LineCheck.objects.filter(pk=check.pk, status="passed").exists()

        await poll(passed, timeout=5, what="the line check to pass")
        channel = await database_sync_to_async(HotlineChannel.objects.get)(pk=line_ab.pk)
        assert channel.last_check_ok_at is not None
        assert await database_sync_to_async(
            ChannelEvent.objects.filter(channel=line_ab, kind="line_check_passed").exists
        )()
    finally:
        await asyncio.to_thread(worker.stop)
