"""The steady load of the chaos suite, and what it counts.

- **Members** (:class:`Member`): one websocket client per desk on each web process, all
  following the fault's crisis room and all sending on it (``send`` with a
  ``client_msg_id``, the next one only after ``sent``). A client behaves as the protocol
  (docs/hotline-protocol.md) asks: after any disconnect it reconnects (to the other web
  process if its own does not answer) and subscribes with ``since_seq`` = the highest
  seq it holds without a gap; a send with no answer is sent again with the same
  ``client_msg_id``. Deliveries are counted raw (a seq received twice by one member is a
  duplicate), with their arrival times.
- **HTTP** (:class:`HttpLoad`): crisis actions (a situation update on one of the fault's
  crises) and hotline sends over REST, alternating between the web processes. A failed
  attempt (no answer within the timeout, a refused connection, a 5xx) is retried on the
  other process, a 503 after its ``Retry-After``: hotline sends with the same
  ``client_msg_id``, situation updates with the same ``Idempotency-Key`` (and the same
  marker text, so the database shows whether one was written twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import time
import uuid
from dataclasses import dataclass, field

import httpx
import websockets

# One line per request is noise in a failure's output.
logging.getLogger("httpx").setLevel(logging.WARNING)

#: How long a send waits for ``sent`` before the client gives up on the connection.
ACK_TIMEOUT = 5.0
#: How long an HTTP attempt may take before it counts as failed and is retried.
HTTP_TIMEOUT = 5.0
HTTP_RETRIES = 4
#: How long a request answered 503 + Retry-After is sent again before the client gives up.
RETRY_AFTER_LIMIT = 30.0


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


@dataclass
class Send:
    client_msg_id: str
    started: float
    attempts: int = 0
    acked_at: float | None = None
    seq: int | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def latency(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.started


class Member:
    """One desk's websocket client, pinned to a web process (with failover)."""

    def __init__(self, name: str, token: str, urls: list[str], channel: int, *, interval: float):
        self.name = name
        self.token = token
        self.urls = urls  # preferred first
        self.channel = channel
        self.interval = interval
        self.arrivals: dict[int, list[float]] = {}
        self.sends: list[Send] = []
        self.connects = 0
        self.disconnects = 0
        self.failed_connects = 0
        self.sending = True
        self.stopping = False
        self._ws = None
        self._sent: dict[str, asyncio.Future] = {}
        self._connected = asyncio.Event()  # open: hello received, sends may go
        self.subscribed = asyncio.Event()  # the first subscribe was answered
        self._task: asyncio.Task | None = None
        self._sender: asyncio.Task | None = None

    # --- what it holds --------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """The highest seq held with nothing missing before it."""
        seq = 0
        while seq + 1 in self.arrivals:
            seq += 1
        return seq

    def duplicates(self) -> int:
        return sum(len(times) - 1 for times in self.arrivals.values())

    def first_arrival(self, seq: int) -> float | None:
        times = self.arrivals.get(seq)
        return times[0] if times else None

    # --- the connection ---------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"member-{self.name}")
        self._sender = asyncio.create_task(self._send_loop(), name=f"sender-{self.name}")

    async def _connect(self, *, live: bool = True) -> websockets.ClientConnection:
        last_error: Exception | None = None
        for url in self.urls:
            try:
                ws = await websockets.connect(
                    url,
                    additional_headers={"Authorization": f"Token {self.token}"},
                    open_timeout=5,
                    close_timeout=1,
                    ping_interval=None,
                    max_queue=None,
                )
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                self.failed_connects += 1
                last_error = exc
                continue
            try:
                hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if hello.get("type") != "hello":
                    raise ConnectionError(f"first frame {hello}")
                if live:
                    self._ws = ws
                    self._connected.set()
                await ws.send(
                    json.dumps(
                        {"type": "subscribe", "channel": self.channel, "since_seq": self.last_seq}
                    )
                )
                return ws
            except (OSError, TimeoutError, ConnectionError, websockets.WebSocketException) as exc:
                self.failed_connects += 1
                last_error = exc
                if live:
                    self._connected.clear()
                    self._ws = None
                await ws.close()
        raise ConnectionError(f"no web process answered: {last_error!r}")

    async def _run(self) -> None:
        while not self.stopping:
            try:
                ws = await self._connect()
            except ConnectionError:
                await asyncio.sleep(0.3)
                continue
            self.connects += 1
            subscribed = False
            try:
                while True:
                    wait = None if subscribed else 10
                    frame = json.loads(await asyncio.wait_for(ws.recv(), wait))
                    kind = frame.get("type")
                    if kind == "message" and frame.get("channel") == self.channel:
                        self.arrivals.setdefault(frame["seq"], []).append(time.monotonic())
                    elif kind == "subscribed" and frame.get("channel") == self.channel:
                        subscribed = True
                        self.subscribed.set()
                    elif kind == "sent":
                        future = self._sent.get(frame["client_msg_id"])
                        if future and not future.done():
                            future.set_result(frame)
                    elif kind == "error" and isinstance(frame.get("ref"), str):
                        future = self._sent.get(frame["ref"])
                        if future and not future.done():
                            future.set_exception(RuntimeError(f"error {frame.get('code')}"))
            except (TimeoutError, OSError, websockets.WebSocketException):
                pass
            finally:
                self._connected.clear()
                self._ws = None
                self.disconnects += 1
                for future in self._sent.values():
                    if not future.done():
                        future.set_exception(ConnectionError("connection lost"))
                with contextlib.suppress(Exception):
                    await ws.close()
            if not self.stopping:
                await asyncio.sleep(0.2)

    async def _send_loop(self) -> None:
        n = 0
        await asyncio.sleep(random.uniform(0, self.interval))
        while self.sending:
            n += 1
            send = Send(client_msg_id=str(uuid.uuid4()), started=time.monotonic())
            self.sends.append(send)
            await self._deliver(send, f"{self.name} #{n}")
            await asyncio.sleep(self.interval * random.uniform(0.7, 1.3))

    async def _deliver(self, send: Send, body: str) -> None:
        """Send until ``sent`` (same client_msg_id every time), or give up after 60 s."""
        give_up = send.started + 60
        while time.monotonic() < give_up and not self.stopping:
            try:
                await asyncio.wait_for(self._connected.wait(), max(0.1, give_up - time.monotonic()))
            except TimeoutError:
                break
            ws = self._ws
            if ws is None:
                continue
            future = asyncio.get_running_loop().create_future()
            self._sent[send.client_msg_id] = future
            send.attempts += 1
            frame = {
                "type": "send",
                "channel": self.channel,
                "client_msg_id": send.client_msg_id,
                "body": body,
                "ref": send.client_msg_id,
            }
            try:
                await ws.send(json.dumps(frame))
                sent = await asyncio.wait_for(future, ACK_TIMEOUT)
            except TimeoutError:
                send.failures.append("no answer")
                # A connection that does not answer is dropped; the send goes again
                # on the next one.
                with contextlib.suppress(Exception):
                    await ws.close()
                continue
            except (ConnectionError, OSError, websockets.WebSocketException):
                send.failures.append("connection lost")
                continue
            except RuntimeError as exc:
                send.failures.append(str(exc))
                await asyncio.sleep(0.5)
                continue
            finally:
                self._sent.pop(send.client_msg_id, None)
            send.acked_at = time.monotonic()
            send.seq = sent["seq"]
            return

    async def stop_sending(self, timeout: float = 70) -> None:
        self.sending = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._sender), timeout)

    async def close(self) -> None:
        self.stopping = True
        self.sending = False
        for task in (self._sender, self._task):
            if task:
                task.cancel()
        for task in (self._sender, self._task):
            if task:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()

    async def resume_once(self) -> int:
        """A fresh connection and ``subscribe`` since the last seq held, as a client does
        after any doubt: returns how many messages it replayed."""
        ws = await self._connect(live=False)
        replayed = 0
        try:
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if frame.get("type") == "message" and frame.get("channel") == self.channel:
                    self.arrivals.setdefault(frame["seq"], []).append(time.monotonic())
                    replayed += 1
                elif frame.get("type") == "subscribed":
                    return replayed
        finally:
            await ws.close()


@dataclass
class Attempt:
    what: str
    started: float
    seconds: float
    outcome: str  # "ok" or why it failed


class HttpLoad:
    """Crisis actions and REST hotline sends, alternating between the web processes."""

    def __init__(self, bases: list[str], *, token: str, channel: int, crises: list[int]):
        self.bases = bases
        self.headers = {"Authorization": f"Token {token}"}
        self.channel = channel
        self.crises = crises
        self.attempts: list[Attempt] = []
        #: situation update marker -> (answered 2xx, attempts)
        self.markers: dict[str, tuple[bool, int]] = {}
        #: REST send's client_msg_id -> (answered 2xx, attempts)
        self.rest_sends: dict[str, tuple[bool, int]] = {}
        #: answers replayed from an earlier attempt with the same Idempotency-Key
        self.replayed = 0
        self.running = True
        self._tasks: list[asyncio.Task] = []
        self._n = 0

    def start(self, interval: float = 0.5) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(self._crisis_action, interval)),
            asyncio.create_task(self._loop(self._hotline_send, interval)),
        ]

    async def _loop(self, action, interval: float) -> None:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, headers=self.headers) as client:
            while self.running:
                await action(client)
                await asyncio.sleep(interval * random.uniform(0.7, 1.3))

    async def _attempts(
        self, client, what: str, path: str, body: dict, headers: dict | None = None
    ) -> tuple[bool, int]:
        """POST until 2xx, each attempt on the next web process; returns whether it was
        answered and how many attempts it took. A 503 with ``Retry-After`` (the database
        is away: nothing was done) is sent again after that long, for up to
        RETRY_AFTER_LIMIT seconds; any other failure (no answer, a refused connection, a
        5xx) up to HTTP_RETRIES times."""
        first = time.monotonic()
        attempt = failures = 0
        while True:
            attempt += 1
            self._n += 1
            base = self.bases[self._n % len(self.bases)]
            started = time.monotonic()
            retry_after = None
            try:
                response = await client.post(base + path, json=body, headers=headers)
                outcome = "ok" if response.status_code < 300 else f"HTTP {response.status_code}"
                if response.status_code == 503 and response.headers.get("Retry-After"):
                    retry_after = float(response.headers["Retry-After"])
                if response.headers.get("Idempotent-Replayed") == "true":
                    self.replayed += 1
            except httpx.TimeoutException:
                outcome = "timeout"
            except httpx.TransportError as exc:
                outcome = type(exc).__name__
            self.attempts.append(Attempt(what, started, time.monotonic() - started, outcome))
            if outcome == "ok":
                return True, attempt
            if outcome.startswith("HTTP 4"):
                return False, attempt  # refused for a reason: a retry would be refused too
            if retry_after is not None:
                if time.monotonic() - first + retry_after > RETRY_AFTER_LIMIT:
                    return False, attempt
                await asyncio.sleep(min(retry_after, 5.0))
                continue
            failures += 1
            if failures > HTTP_RETRIES:
                return False, attempt
            await asyncio.sleep(0.3)

    async def _crisis_action(self, client) -> None:
        marker = f"chaos-update {uuid.uuid4()}"
        crisis = random.choice(self.crises)
        # One key per action, the same on every retry: the API does it once.
        self.markers[marker] = await self._attempts(
            client,
            "crisis action",
            f"/api/v1/crises/{crisis}/updates/",
            {"conditions": marker},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )

    async def _hotline_send(self, client) -> None:
        client_msg_id = str(uuid.uuid4())
        self.rest_sends[client_msg_id] = await self._attempts(
            client,
            "hotline send (REST)",
            f"/api/v1/channels/{self.channel}/messages/",
            {"body": f"rest {client_msg_id[:8]}", "client_msg_id": client_msg_id},
        )

    async def stop(self) -> None:
        self.running = False
        for task in self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, RETRY_AFTER_LIMIT + HTTP_TIMEOUT * (HTTP_RETRIES + 2))
