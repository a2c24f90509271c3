"""Delivery order of one line's message frames to one connection.

Guarantee: after a ``subscribe`` with ``since_seq`` n, the connection gets the line's
message frames n+1, n+2, … each exactly once and in seq order, whichever path brought
them (the database replay or the live fan-out), until it unsubscribes.

Mechanism (:class:`LineOrdering`, one per subscription): the consumer registers with the
fan-out hub *first*, so live events arriving meanwhile are buffered, then
:meth:`~LineOrdering.catch_up` replays from the database everything after the last seq
sent, drains the buffer in order and goes live. Live, a frame is sent if it is the next
seq and dropped if it is an old one (a duplicate).

Failure cases it covers: a frame ahead of the next seq means the transport lost one or
the publishes of two concurrent sends overtook each other; it is held for a grace
period (``gap_grace_seconds``) and, if the missing seq has not arrived by then, the
connection re-reads from the database. A buffer overflowing while catching up is
dropped and replaced by the replay (the database holds everything published). The hub
losing Redis calls :meth:`~LineOrdering.resync`: whatever was published meanwhile is
re-read. A lost event with nothing after it leaves no gap to see: the hub's check of the
line's head in the database (:meth:`~LineOrdering.behind`) finds the connection short of
it and re-reads. A failing re-read is logged and tried again after
``RETRY_SECONDS`` (and on that check).

The class knows no socket: it is given how to read the database (``read_after``) and how
to send a frame (``emit``), which is how ``tests/hotline/test_ordering.py`` drives it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from hotline.fanout import UNSEQUENCED

logger = logging.getLogger(__name__)

#: Rows per database read while catching up; a full batch means read again.
REPLAY_BATCH = 500
#: Live frames held while catching up, beyond which the replay covers them instead.
MAX_BUFFERED = 5000
#: How long a gap may wait for the missing frames before the database is asked.
GAP_GRACE_SECONDS = 0.25
#: How long after a failed re-read (the database away) it is tried again.
RETRY_SECONDS = 1.0

#: ``read_after(after_seq, limit)``: up to ``limit`` ``(seq, frame text)`` of the line
#: after ``after_seq``, in seq order.
Reader = Callable[[int, int], Awaitable[list[tuple[int, str]]]]


class LineOrdering:
    """One connection's subscription to one line: sends its message frames in order."""

    def __init__(
        self,
        line_id: int,
        *,
        since_seq: int,
        read_after: Reader,
        emit: Callable[[str], None],
        replay_batch: int = REPLAY_BATCH,
        max_buffered: int = MAX_BUFFERED,
        gap_grace_seconds: float = GAP_GRACE_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
    ):
        self.line_id = line_id
        self.last_seq = since_seq  # the last seq sent to the client
        self.read_after, self.emit = read_after, emit
        self.replay_batch, self.max_buffered = replay_batch, max_buffered
        self.gap_grace_seconds = gap_grace_seconds
        self.retry_seconds = retry_seconds
        self.live = False  # caught up: frames go straight out
        self.stale = False  # the buffer cannot be trusted: re-read from the database
        self.closed = False
        self.buffer: list[tuple[int, str]] = []
        self._task: asyncio.Task | None = None
        self._gap_timer: asyncio.TimerHandle | None = None
        self._catching = False  # a catch_up is reading (the first one, or a re-read)

    async def catch_up(self) -> int | None:
        """Replay from the database after the last seq sent, drain what was buffered
        meanwhile, and go live. Loops until no gap is left. Returns how many frames the
        database replay sent, or None if the subscription was closed meanwhile (then it
        does not go live).

        Between its last read and going live it does not await, so no live frame can
        slip in between: a caller that sends a frame right after the await returns
        sends it before any live one.
        """
        self._catching = True
        try:
            return await self._catch_up()
        finally:
            self._catching = False

    async def _catch_up(self) -> int | None:
        replayed = 0
        while True:
            self.stale = False
            rows = await self.read_after(self.last_seq, self.replay_batch)
            for seq, text in rows:
                if seq == self.last_seq + 1:
                    self._send(seq, text)
                    replayed += 1
            if len(rows) == self.replay_batch:
                continue
            gap = self._drain()
            if gap or self.stale:
                continue
            if self.closed:
                return None
            self.live = True
            self._task = None
            return replayed

    def push(self, seq: int, text: str) -> None:
        """A frame of the line from the fan-out hub (same event loop, no await)."""
        if self.closed:
            return
        if seq == UNSEQUENCED:  # receipts, line status: no order to keep
            self.emit(text)
        elif not self.live:
            if len(self.buffer) >= self.max_buffered:
                # Catching up is slower than the stream: drop the buffer and let the
                # database replay cover it (it holds everything that was published).
                self.buffer.clear()
                self.stale = True
            self.buffer.append((seq, text))
        elif seq == self.last_seq + 1:
            self._send(seq, text)
            if self.buffer:
                self._drain()
        elif seq > self.last_seq + 1:
            # Publishes of concurrent sends can overtake each other: wait a moment for
            # the missing ones before asking the database.
            self.buffer.append((seq, text))
            if self._gap_timer is None:
                self._gap_timer = asyncio.get_running_loop().call_later(
                    self.gap_grace_seconds, self._gap_overdue
                )
        # else: a seq already sent (a duplicate): dropped.

    def resync(self) -> None:
        """Events may have been lost (the hub lost Redis): re-read from the database."""
        if self.closed:
            return
        self.stale = True
        self._start_catch_up()

    def behind(self, head: int) -> bool:
        """The database held seq ``head`` one head check ago, long enough for its live
        event to have arrived: short of it and not already reading, the event was lost
        on the way (and nothing after it showed a gap). Re-read; returns whether."""
        if self.closed or self._catching or self.last_seq >= head:
            return False
        self.resync()
        return True

    def close(self) -> None:
        """Unsubscribed: stop any re-read and send nothing more."""
        self.closed = True
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._cancel_gap_timer()

    def _send(self, seq: int, text: str) -> None:
        self.last_seq = seq
        self.emit(text)

    def _drain(self) -> bool:
        """Send the buffered frames that follow on; keep those after a gap. Returns
        whether a gap is left."""
        self.buffer.sort(key=lambda item: item[0])
        rest = []
        for seq, text in self.buffer:
            if seq == self.last_seq + 1:
                self._send(seq, text)
            elif seq > self.last_seq:
                rest.append((seq, text))
        self.buffer = rest
        if not rest:
            self._cancel_gap_timer()
        return bool(rest)

    def _gap_overdue(self) -> None:
        self._gap_timer = None
        if not self.closed and self.live and self.buffer:
            self._start_catch_up()

    def _start_catch_up(self) -> None:
        self.live = False
        self._cancel_gap_timer()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._catch_up_quietly())

    async def _catch_up_quietly(self) -> None:
        try:
            await self.catch_up()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("hotline catch-up failed; retrying in %s s", self.retry_seconds)
            self._task = None
            asyncio.get_running_loop().call_later(self.retry_seconds, self._retry)

    def _retry(self) -> None:
        if not self.closed and not self.live and self._task is None:
            self._start_catch_up()

    def _cancel_gap_timer(self) -> None:
        if self._gap_timer is not None:
            self._gap_timer.cancel()
            self._gap_timer = None
