"""Delivery order on one line (``hotline.ordering``), without a socket or a database.

A fake database holds the line's frames; the ordering reads it through ``read_after``
and sends through ``emit``, which records what the client would get.
"""

from __future__ import annotations

import asyncio

from hotline.fanout import UNSEQUENCED
from hotline.ordering import LineOrdering


class FakeLine:
    """The line's messages as the database has them, and what the client was sent."""

    def __init__(self, last_seq: int = 0):
        self.stored = {seq: f"m{seq}" for seq in range(1, last_seq + 1)}
        self.reads: list[int] = []  # after_seq of each database read
        self.sent: list[str] = []
        self.during_read = None  # called once inside a read, after its snapshot

    def store(self, *seqs: int) -> None:
        self.stored.update({seq: f"m{seq}" for seq in seqs})

    async def read_after(self, after_seq: int, limit: int) -> list[tuple[int, str]]:
        self.reads.append(after_seq)
        rows = [(seq, self.stored[seq]) for seq in sorted(self.stored) if seq > after_seq]
        await asyncio.sleep(0)  # a real read awaits: live frames may arrive meanwhile
        if self.during_read is not None:
            hook, self.during_read = self.during_read, None
            hook()
        return rows[:limit]

    def ordering(self, since_seq: int = 0, **options) -> LineOrdering:
        options.setdefault("gap_grace_seconds", 0.01)
        return LineOrdering(
            7, since_seq=since_seq, read_after=self.read_after, emit=self.sent.append, **options
        )


def frames(*seqs: int) -> list[str]:
    return [f"m{seq}" for seq in seqs]


async def until(condition, timeout: float = 2.0) -> None:
    """Wait (bounded) for a timer or background re-read to have done its part."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


async def test_subscribing_replays_the_line_then_goes_live_in_order():
    line = FakeLine(last_seq=3)
    order = line.ordering()
    assert await order.catch_up() == 3
    assert order.live
    line.store(4, 5)
    order.push(4, "m4")
    order.push(5, "m5")
    assert line.sent == frames(1, 2, 3, 4, 5)
    assert order.last_seq == 5
    assert line.reads == [0]


async def test_resuming_with_since_seq_replays_only_what_follows():
    line = FakeLine(last_seq=5)
    order = line.ordering(since_seq=3)
    assert await order.catch_up() == 2
    assert line.reads == [3]
    assert line.sent == frames(4, 5)


async def test_a_duplicate_live_frame_is_dropped():
    line = FakeLine(last_seq=2)
    order = line.ordering()
    await order.catch_up()
    order.push(2, "m2")  # already replayed
    order.push(1, "m1")
    order.push(3, "m3")
    order.push(3, "m3")
    assert line.sent == frames(1, 2, 3)


async def test_frames_arriving_during_the_replay_are_sent_once_in_order():
    line = FakeLine(last_seq=2)
    order = line.ordering()

    def live_frames_meanwhile():
        line.store(3, 4)
        order.push(4, "m4")  # overtook 3
        order.push(2, "m2")  # also in the replay
        order.push(3, "m3")

    line.during_read = live_frames_meanwhile
    assert await order.catch_up() == 2  # 3 and 4 came from the buffer
    assert line.sent == frames(1, 2, 3, 4)
    assert line.reads == [0]
    assert order.buffer == []


async def test_a_gap_filled_within_the_grace_period_needs_no_database_read():
    line = FakeLine(last_seq=1)
    order = line.ordering(gap_grace_seconds=5)
    await order.catch_up()
    order.push(3, "m3")
    assert line.sent == frames(1)  # held: 2 may be on its way
    order.push(2, "m2")
    assert line.sent == frames(1, 2, 3)
    assert line.reads == [0]


async def test_a_gap_not_filled_in_time_is_re_read_from_the_database():
    line = FakeLine(last_seq=1)
    order = line.ordering()
    await order.catch_up()
    line.store(2, 3)  # 2 was lost in transport
    order.push(3, "m3")
    await until(lambda: order.live and line.sent == frames(1, 2, 3))
    assert line.reads == [0, 1]
    order.push(4, "m4")
    assert line.sent == frames(1, 2, 3, 4)


async def test_a_gap_left_after_the_replay_is_read_again():
    line = FakeLine(last_seq=1)
    order = line.ordering()

    def lost_frame_while_reading():
        line.store(2, 3)  # committed after the read's snapshot; 2's publish was lost
        order.push(3, "m3")

    line.during_read = lost_frame_while_reading
    assert await order.catch_up() == 3
    assert line.reads == [0, 1]
    assert line.sent == frames(1, 2, 3)


async def test_a_full_batch_is_followed_by_another_read():
    line = FakeLine(last_seq=5)
    order = line.ordering(replay_batch=2)
    assert await order.catch_up() == 5
    assert line.reads == [0, 2, 4]
    assert line.sent == frames(1, 2, 3, 4, 5)


async def test_an_overflowing_buffer_is_dropped_and_replaced_by_the_replay():
    line = FakeLine()
    order = line.ordering(max_buffered=2)

    def flood():
        line.store(1, 2, 3, 4)
        for seq in (1, 2, 3, 4):
            order.push(seq, f"m{seq}")

    line.during_read = flood
    await order.catch_up()
    assert line.reads == [0, 0]  # the flood made the first read stale
    assert line.sent == frames(1, 2, 3, 4)


async def test_resync_re_reads_what_the_transport_may_have_lost():
    line = FakeLine(last_seq=2)
    order = line.ordering()
    await order.catch_up()
    line.store(3, 4)  # published while the hub was away from Redis
    order.resync()
    assert not order.live
    await until(lambda: order.live)
    assert line.sent == frames(1, 2, 3, 4)


async def test_unsequenced_frames_pass_straight_through():
    line = FakeLine(last_seq=1)
    order = line.ordering()
    order.push(UNSEQUENCED, "receipt")  # even before going live
    await order.catch_up()
    assert line.sent == ["receipt", *frames(1)]


async def test_a_closed_subscription_sends_nothing_more():
    line = FakeLine(last_seq=1)
    order = line.ordering()
    line.during_read = order.close  # unsubscribed while the replay was reading
    assert await order.catch_up() is None
    assert not order.live
    order.push(2, "m2")
    order.push(UNSEQUENCED, "receipt")
    order.resync()
    assert line.sent == frames(1)
    assert line.reads == [0]


async def test_a_lost_last_event_is_re_read_when_the_head_check_finds_it_missing():
    """Nothing follows the lost event, so no gap shows: the database's head does."""
    line = FakeLine(last_seq=2)
    order = line.ordering()
    await order.catch_up()
    line.store(3)  # committed; its publish never arrives (the sender's process died)
    assert not order.behind(2)  # not short of the head: nothing read
    reads = len(line.reads)
    assert order.behind(3)
    await until(lambda: order.live and line.sent == frames(1, 2, 3))
    assert len(line.reads) == reads + 1
    assert not order.behind(3)  # caught up: no second read
    order.push(3, "m3")  # the late publish, if it ever comes, is a duplicate
    assert line.sent == frames(1, 2, 3)


async def test_the_head_check_does_not_start_a_second_read_while_one_runs():
    line = FakeLine(last_seq=3)
    order = line.ordering()
    line.during_read = lambda: calls.append(order.behind(3))
    calls: list[bool] = []
    await order.catch_up()
    assert calls == [False]
    assert line.reads == [0]
    assert line.sent == frames(1, 2, 3)


async def test_a_failed_re_read_is_tried_again_without_waiting_for_another_event():
    line = FakeLine(last_seq=1)
    order = line.ordering(retry_seconds=0.01)
    await order.catch_up()
    failing = {"left": 1}
    read = line.read_after

    async def flaky(after_seq, limit):
        if failing["left"]:
            failing["left"] -= 1
            raise OSError("the database went away")
        return await read(after_seq, limit)

    order.read_after = flaky
    line.store(2)
    order.resync()  # e.g. the hub reconnected; this read fails
    await until(lambda: order.live and line.sent == frames(1, 2))
    assert failing["left"] == 0
