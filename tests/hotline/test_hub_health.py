"""The fan-out hub notices a connection that went silent (half-open: no error, no data)
and reconnects, re-syncing its listeners; its publish queue is bounded.

The hub talks to a private Redis through a TCP relay that can freeze the connections it
carries (they stay open and swallow everything) while new ones pass: what a NAT or a
load balancer that dropped its state looks like to a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import redis.asyncio as aioredis

from hotline.fanout import Hub, channel_topic, encode


async def wait_until(predicate, timeout: float) -> None:
    """For hub state that nothing signals (connected or not): checked every 50 ms."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


class FreezingRelay:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.frozen: set[asyncio.StreamWriter] = set()
        self.live: set[asyncio.StreamWriter] = set()
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}/0"

    async def _serve(self, reader, writer):
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self.live |= {writer, up_writer}

        async def pipe(src, dst):
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    if dst in self.frozen or writer in self.frozen:
                        continue  # swallowed: the peer hears nothing, and no error
                    dst.write(data)
                    await dst.drain()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def freeze(self) -> None:
        """Every connection open now goes silent; later ones work."""
        self.frozen |= self.live
        self.live = set()

    async def stop(self) -> None:
        self.server.close()
        for w in self.frozen | self.live:
            w.close()


class Recorder:
    """A hub listener that writes down what it is handed."""

    def __init__(self):
        self.pushed: list[tuple[int, int, str]] = []
        self.resyncs = 0
        self.event = asyncio.Event()

    def hotline_push(self, channel_id: int, seq: int, text: str) -> None:
        self.pushed.append((channel_id, seq, text))
        self.event.set()

    def hotline_resync(self, channel_id: int) -> None:
        self.resyncs += 1
        self.event.set()

    def hotline_head(self, channel_id: int, head: int) -> bool:
        return False  # these lines are not in the database

    async def until(self, predicate, timeout: float) -> float:
        started = time.monotonic()
        while not predicate():
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), timeout - (time.monotonic() - started))
        return time.monotonic() - started


async def test_a_silent_connection_is_detected_and_replaced(private_redis, settings):
    settings.HOTLINE_HUB_PING_SECONDS = 0.5
    settings.HOTLINE_HUB_DEAD_SECONDS = 2
    relay = FreezingRelay(private_redis.port)
    hub = Hub(await relay.start())
    direct = aioredis.Redis.from_url(private_redis.url)
    listener = Recorder()
    try:
        await hub.add(7, listener)
        await wait_until(lambda: hub.connected, 5)
        await direct.publish(channel_topic(7), encode(1, {"n": 1}))
        await listener.until(lambda: len(listener.pushed) == 1, timeout=5)

        before = listener.resyncs
        relay.freeze()
        await direct.publish(channel_topic(7), encode(2, {"n": 2}))  # lost in the freeze
        took = await listener.until(lambda: listener.resyncs > before, timeout=10)
        assert took < 4, f"the hub took {took:.1f} s to notice a silent connection"
        assert hub.connected and hub.reconnects == 2
        await direct.publish(channel_topic(7), encode(3, {"n": 3}))
        await listener.until(lambda: listener.pushed[-1][1] == 3, timeout=5)
        assert [seq for _, seq, _ in listener.pushed] == [1, 3]  # 2 is the re-read's
    finally:
        await hub.stop()
        await direct.aclose()
        await relay.stop()


async def test_the_publish_queue_is_bounded_while_redis_is_away(private_redis, settings):
    settings.HOTLINE_HUB_MAX_PENDING = 50
    hub = Hub(private_redis.url)
    listener = Recorder()
    try:
        await hub.add(9, listener)
        await wait_until(lambda: hub.connected, 5)
        private_redis.kill()
        await wait_until(lambda: not hub.connected, 5)
        hub.publish([(channel_topic(9), encode(n, {"n": n})) for n in range(1, 201)])
        assert len(hub._outgoing) == 50 and hub.dropped == 150
        # Meanwhile this process's own listeners got every one at once.
        assert [seq for _, seq, _ in listener.pushed] == list(range(1, 201))
    finally:
        await hub.stop()
