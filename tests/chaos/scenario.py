"""One fault under load, counted: the shape every chaos test shares.

``run_fault`` heals the cluster, activates fresh crises (their ladders have a deadline
due every 2 s), starts the members and the HTTP load on the fault's own crisis room,
lets them run, injects the fault, lets them run after recovery, stops sending, waits for
delivery and for the deadlines, and counts from the database:

- hotline: acknowledged (``sent`` or a 2xx) vs stored vs delivered to every member;
  *lost* = acknowledged but not stored, or stored but not delivered to a member even
  after it resumes with ``since_seq``; *undelivered live* = stored but not delivered to a
  member before that resume (its connection stayed open and silent, or it never caught
  up); *duplicated* = a seq delivered twice to one member (raw, before any client dedupe)
  or a ``client_msg_id`` stored twice;
- deadlines of the fault's crises: due vs fired, *missed* (still pending well past due
  at the end, or cancelled by the final stop after it was due), *duplicated* (a level's
  expiry recorded twice in the timeline for the same level and round), lateness;
- HTTP: attempts, failed attempts and why, actions that needed a retry, answers replayed
  for a retried ``Idempotency-Key``, retries that wrote twice, actions given up;
- for the Redis faults: latency of crisis actions and hotline sends while it was down
  (p99), and how long after Redis returned every member held every message stored by
  then (catch-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass

import httpx
import psycopg

from tests.chaos.cluster import Cluster
from tests.chaos.load import HttpLoad, Member, percentile

#: Active crises per fault (each has a deadline due every 2 s).
CRISES = 4
#: Seconds of load before the fault and after recovery.
BEFORE, AFTER = 4.0, 5.0
#: A member sends every this many seconds (8 members: ~8 messages/s, plus REST ~2/s).
SEND_INTERVAL = 1.0
#: How long members get to receive everything after the last send.
DELIVERY_WAIT = 15.0
#: A deadline still pending this long past due (after the wait) is missed.
DEADLINE_GRACE = 3.0
DEADLINE_WAIT = 30.0
#: An unanswered send counts as this slow in the latency figures.
NO_ANSWER_SECONDS = 60.0


@dataclass
class Window:
    fault_at: float = 0.0  # monotonic
    recovered_at: float = 0.0
    stored_at_recovery: int = 0  # highest seq stored when the fault ended


def _r(value, digits=3):
    return None if value is None else round(value, digits)


class Scenario:
    def __init__(self, cluster: Cluster, fault: str):
        self.cluster = cluster
        self.fault = fault
        seed = cluster.seed
        self.tokens = seed["tokens"]
        self.channel = seed["rooms"][fault]
        self.bases = [f"http://127.0.0.1:{web.port}" for web in cluster.webs]
        self.ws_urls = [web.ws_url for web in cluster.webs]
        self.crises: list[int] = []
        self.members: list[Member] = []
        self.http: HttpLoad | None = None
        self.window = Window()
        self.started = time.monotonic()
        self._supervising = True
        self.restarted: list[str] = []  # what the supervisor had to start again
        self.missing_live: dict[str, list[int]] = {}

    # --- database reads (the record) ----------------------------------------------------------

    def _sql(self, query: str, params=()) -> list[tuple]:
        with psycopg.connect(self.cluster.db_url, connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()

    async def sql(self, query: str, params=()) -> list[tuple]:
        deadline = time.monotonic() + 30
        while True:
            try:
                return await asyncio.to_thread(self._sql, query, params)
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def max_stored_seq(self) -> int:
        rows = await self.sql(
            "SELECT coalesce(max(seq), 0) FROM hotline_message WHERE channel_id = %s",
            (self.channel,),
        )
        return rows[0][0]

    # --- setting up ------------------------------------------------------------------------------

    async def _post(self, client, token: str, path: str, body: dict) -> dict:
        response = await client.post(
            self.bases[0] + path, json=body, headers={"Authorization": f"Token {token}"}
        )
        assert response.status_code < 300, (path, response.status_code, response.text[:500])
        return response.json()

    async def activate_crises(self) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            for n in range(CRISES):
                crisis = await self._post(
                    client,
                    self.tokens["op-a"],
                    "/api/v1/crises/",
                    {
                        "category": "other",
                        "title": f"Chaos {self.fault} {n}",
                        "severity": 3,
                        "affected_states": ["AAA", "BBB"],
                    },
                )
                await self._post(
                    client,
                    self.tokens["sup-a"],
                    f"/api/v1/crises/{crisis['id']}/transition/",
                    {"to": "active"},
                )
                self.crises.append(crisis["id"])

    async def stop_crises(self) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            for crisis in self.crises:
                with contextlib.suppress(httpx.HTTPError, AssertionError):
                    await self._post(
                        client,
                        self.tokens["sup-a"],
                        f"/api/v1/crises/{crisis}/stop-escalation/",
                        {"reason": "chaos fault counted"},
                    )

    async def start_members(self) -> None:
        for user in ("op-a", "op-b", "op-c", "coord"):
            for web in (0, 1):
                urls = [self.ws_urls[web], self.ws_urls[1 - web]]
                member = Member(
                    f"{user}@web{web + 1}",
                    self.tokens[user],
                    urls,
                    self.channel,
                    interval=SEND_INTERVAL,
                )
                member.sending = True
                self.members.append(member)
        for member in self.members:
            member.start()
        await asyncio.wait_for(
            asyncio.gather(*(m.subscribed.wait() for m in self.members)), timeout=30
        )

    async def supervise(self) -> None:
        """Compose's ``restart: unless-stopped``: a dead web, worker or beat is started
        again (PostgreSQL and Redis are the faults' own to bring back)."""
        cluster = self.cluster

        def once():
            restarted = []
            for web in cluster.webs:
                if web.proc.poll() is not None:
                    web.start()
                    web.wait_ready()
                    restarted.append("web")
            for worker in cluster.workers:
                if worker.ensure_running():
                    restarted.append("worker")
            if cluster.beat.ensure_running():
                restarted.append("beat")
            return restarted

        while self._supervising:
            with contextlib.suppress(Exception):  # Redis or PostgreSQL down: next round
                self.restarted += await asyncio.to_thread(once)
            await asyncio.sleep(0.5)

    # --- the run ---------------------------------------------------------------------------------

    async def run(self, inject) -> dict:
        await asyncio.to_thread(self.cluster.heal)
        await self.activate_crises()
        await self.start_members()
        self.http = HttpLoad(
            self.bases, token=self.tokens["op-a"], channel=self.channel, crises=self.crises
        )
        self.http.start()
        supervisor = asyncio.create_task(self.supervise())
        try:
            await asyncio.sleep(BEFORE)  # steady load before the fault (a duration, not a wait)
            self.window.fault_at = time.monotonic()
            await inject(self.cluster)
            self.window.recovered_at = time.monotonic()
            self.window.stored_at_recovery = await self.max_stored_seq()
            await asyncio.sleep(AFTER)
            await asyncio.gather(*(m.stop_sending() for m in self.members), self.http.stop())
            await self.wait_delivered()
            undelivered_live = await self.undelivered()
            top = await self.max_stored_seq()
            # Which seqs each member still lacked (the first few): where to look in the logs.
            self.missing_live = {
                m.name: [seq for seq in range(1, top + 1) if seq not in m.arrivals][:10]
                for m in self.members
                if undelivered_live.get(m.name)
            }
            for member in self.members:
                if undelivered_live.get(member.name):
                    with contextlib.suppress(Exception):
                        await member.resume_once()
            deadlines = await self.count_deadlines()
            await self.stop_crises()
            figures = await self.figures(undelivered_live, deadlines)
        finally:
            self._supervising = False
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
            for member in self.members:
                await member.close()
        return figures

    async def wait_delivered(self) -> None:
        give_up = time.monotonic() + DELIVERY_WAIT
        while time.monotonic() < give_up:
            if not any((await self.undelivered()).values()):
                return
            await asyncio.sleep(0.25)

    async def undelivered(self) -> dict[str, int]:
        top = await self.max_stored_seq()
        return {
            m.name: sum(1 for seq in range(1, top + 1) if seq not in m.arrivals)
            for m in self.members
        }

    # --- deadlines -------------------------------------------------------------------------------

    async def count_deadlines(self) -> dict:
        subjects = [f"crisis:{pk}:escalation" for pk in self.crises]
        overdue_query = (
            "SELECT count(*) FROM crisis_deadline WHERE kind = 'crisis.escalation' "
            "AND subject_key = ANY(%s) AND state = 'pending' "
            "AND due_at < now() - make_interval(secs => %s)"
        )
        give_up = time.monotonic() + DEADLINE_WAIT
        while time.monotonic() < give_up:
            (overdue,) = (await self.sql(overdue_query, (subjects, DEADLINE_GRACE)))[0]
            if not overdue:
                break
            await asyncio.sleep(0.5)
        rows = await self.sql(
            "SELECT state, extract(epoch FROM fired_at - due_at), "
            "due_at < now() - make_interval(secs => %s), "
            "cancelled_at > due_at + make_interval(secs => %s) "
            "FROM crisis_deadline WHERE kind = 'crisis.escalation' AND subject_key = ANY(%s)",
            (DEADLINE_GRACE, DEADLINE_GRACE, subjects),
        )
        fired = [float(late) for state, late, _, _ in rows if state == "fired"]
        missed = sum(
            1
            for state, _, overdue, late_cancel in rows
            if (state == "pending" and overdue) or (state == "cancelled" and late_cancel)
        )
        expiries = await self.sql(
            "SELECT crisis_id, payload->>'level', payload->>'round', count(*) "
            "FROM crisis_timelineentry WHERE kind = 'level_expired' AND crisis_id = ANY(%s) "
            "GROUP BY 1, 2, 3",
            (self.crises,),
        )
        return {
            "due": len(fired) + missed,
            "fired": len(fired),
            "missed": missed,
            "duplicated": sum(n - 1 for *_, n in expiries),
            "lateness_p50_s": _r(percentile(fired, 0.5)),
            "lateness_p99_s": _r(percentile(fired, 0.99)),
            "lateness_max_s": _r(max(fired) if fired else None),
        }

    # --- the figures -----------------------------------------------------------------------------

    async def figures(self, undelivered_live: dict[str, int], deadlines: dict) -> dict:
        stored_rows = await self.sql(
            "SELECT seq, client_msg_id::text FROM hotline_message WHERE channel_id = %s",
            (self.channel,),
        )
        stored_ids = Counter(cmid for _, cmid in stored_rows)
        top = max((seq for seq, _ in stored_rows), default=0)
        ws_sends = [s for m in self.members for s in m.sends]
        acked = {s.client_msg_id for s in ws_sends if s.acked_at is not None}
        acked |= {cmid for cmid, (ok, _) in self.http.rest_sends.items() if ok}
        lost_not_stored = len(acked - set(stored_ids))
        lost_undelivered = sum(
            sum(1 for seq in range(1, top + 1) if seq not in m.arrivals) for m in self.members
        )
        w = self.window

        def during(start: float) -> bool:
            return w.fault_at <= start <= w.recovered_at

        ws_latency = [s.latency if s.latency is not None else NO_ANSWER_SECONDS for s in ws_sends]
        ws_latency_fault = [
            s.latency if s.latency is not None else NO_ANSWER_SECONDS
            for s in ws_sends
            if during(s.started)
        ]
        attempts = self.http.attempts
        http_failed = [a for a in attempts if a.outcome != "ok"]
        by_kind_fault = {
            kind: [a.seconds for a in attempts if a.what == kind and during(a.started)]
            for kind in ("crisis action", "hotline send (REST)")
        }
        markers = list(self.http.markers)
        written = Counter(
            text
            for (text,) in await self.sql(
                "SELECT conditions FROM crisis_situationupdate WHERE conditions = ANY(%s)",
                (markers,),
            )
        )
        catch_up = []
        for member in self.members:
            arrivals = [member.first_arrival(seq) for seq in range(1, w.stored_at_recovery + 1)]
            if None in arrivals:
                catch_up.append(None)
            else:
                catch_up.append(max([w.recovered_at, *arrivals]) - w.recovered_at)
        return {
            "fault": self.fault,
            "wall_s": _r(time.monotonic() - self.started, 1),
            "fault_s": _r(w.recovered_at - w.fault_at, 1),
            "restarted_by_supervisor": self.restarted,
            "hotline": {
                "acknowledged": len(acked),
                "stored": len(stored_ids),
                "members": len(self.members),
                "lost": lost_not_stored + lost_undelivered,
                "lost_not_stored": lost_not_stored,
                "lost_undelivered": lost_undelivered,
                "undelivered_live": sum(undelivered_live.values()),
                "undelivered_live_seqs": self.missing_live,
                "duplicated": sum(m.duplicates() for m in self.members)
                + sum(n - 1 for n in stored_ids.values()),
                "sends_unanswered": sum(1 for s in ws_sends if s.acked_at is None)
                + sum(1 for ok, _ in self.http.rest_sends.values() if not ok),
                "send_retries": sum(max(0, s.attempts - 1) for s in ws_sends),
                "send_failures_by_reason": dict(Counter(f for s in ws_sends for f in s.failures)),
                "reconnects": sum(max(0, m.connects - 1) for m in self.members),
                "send_p99_s": _r(percentile(ws_latency, 0.99)),
                "send_p99_during_fault_s": _r(percentile(ws_latency_fault, 0.99)),
                "catch_up_s": None if None in catch_up else _r(max(catch_up, default=0.0)),
            },
            "deadlines": deadlines,
            "http": {
                "requests": len(attempts),
                "failed": len(http_failed),
                "failed_by_reason": dict(Counter(a.outcome for a in http_failed)),
                "crisis_actions": len(markers),
                "crisis_actions_retried": sum(1 for _, n in self.http.markers.values() if n > 1),
                "crisis_actions_given_up": sum(1 for ok, _ in self.http.markers.values() if not ok),
                "replayed_by_idempotency_key": self.http.replayed,
                "rest_sends": len(self.http.rest_sends),
                "rest_sends_retried": sum(1 for _, n in self.http.rest_sends.values() if n > 1),
                "written_twice_by_retry": sum(n - 1 for n in written.values()),
                "acknowledged_not_written": sum(
                    1 for m, (ok, _) in self.http.markers.items() if ok and m not in written
                ),
                "crisis_action_p99_during_fault_s": _r(
                    percentile(by_kind_fault["crisis action"], 0.99)
                ),
                "rest_send_p99_during_fault_s": _r(
                    percentile(by_kind_fault["hotline send (REST)"], 0.99)
                ),
            },
        }


def problems(figures: dict, *, redis_outage: bool) -> list[str]:
    """The issue's goals that these figures miss (empty: all met)."""
    h, d, r = figures["hotline"], figures["deadlines"], figures["http"]
    out = []
    for name, value in (
        ("hotline messages lost", h["lost"]),
        ("hotline messages duplicated", h["duplicated"]),
        ("hotline messages not delivered live (needed a resume)", h["undelivered_live"]),
        ("hotline sends never answered", h["sends_unanswered"]),
        ("deadlines missed", d["missed"]),
        ("deadlines fired twice", d["duplicated"]),
        ("crisis actions written twice by a retry", r["written_twice_by_retry"]),
        ("crisis actions given up", r["crisis_actions_given_up"]),
        ("crisis actions answered but not written", r["acknowledged_not_written"]),
    ):
        if value:
            out.append(f"{name}: {value}")
    if redis_outage:
        if h["send_p99_during_fault_s"] is None or h["send_p99_during_fault_s"] >= 1.0:
            out.append(f"send_p99_during_fault_s = {h['send_p99_during_fault_s']} (goal < 1 s)")
        for name in ("crisis_action_p99_during_fault_s", "rest_send_p99_during_fault_s"):
            if r[name] is None or r[name] >= 1.0:
                out.append(f"{name} = {r[name]} (goal < 1 s)")
        if h["catch_up_s"] is None or h["catch_up_s"] > 5.0:
            out.append(f"catch-up after Redis returned = {h['catch_up_s']} s (goal <= 5 s)")
    return out
