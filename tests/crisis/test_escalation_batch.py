"""The batch form of the escalation handler (``on_escalation_deadlines``, used by slot
tasks and the sweep) does exactly what the one-at-a-time handler (a deadline's own task)
does: the same scenario fired through each path leaves the same records and events.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.events import desk_group
from crisis.models import (
    Crisis,
    CrisisParticipant,
    EscalationLevel,
    EscalationState,
    Notification,
    Protocol,
    ProtocolVersion,
    TimelineEntry,
    VersionStatus,
)
from crisis.models.timeline import TimelineStream
from crisis.services import timeline
from crisis.services.crises import acknowledge_crisis
from crisis.services.escalation import DEADLINE_KIND, deadline_subject
from deadlines.models import Deadline
from deadlines.services import fire_deadline, fire_due_deadlines
from paging.models import DeliveryAttempt, Page, PageRecipient
from tests.crisis.factories import (
    AFFECTED,
    REGION,
    make_crisis,
    make_escalation_protocol,
    pending_deadline,
)
from tests.factories import make_desk
from tests.support.concurrency import run_together

pytestmark = pytest.mark.django_db

NOTIFY_ALL = "notify_all_states"


def protocol_naming(desk, *, levels) -> ProtocolVersion:
    """A published ladder whose level 2 also names ``desk`` (named desks go in while it
    is a draft: a published version is frozen)."""
    protocol = Protocol.objects.create(name=f"Naming {desk.code} {Protocol.objects.count()}")
    version = ProtocolVersion.objects.create(protocol=protocol, number=1)
    for order, level in enumerate(levels, start=1):
        made = EscalationLevel.objects.create(version=version, order=order, **level)
        if order == 2:
            made.notify_desks.add(desk)
    ProtocolVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.PUBLISHED, published_at=timezone.now()
    )
    version.refresh_from_db()
    return version


# --- one scenario, built twice ------------------------------------------------------------


def build(region) -> list[Crisis]:
    """Crises that each take a different way when their deadline fires."""
    named = {
        "name": "Named and participants",
        "timeout_seconds": 1200,
        "notify_scopes": ["participants", "affected"],
        "notify_agency_types": [],
        "notify_roles": ["supervisor"],
    }
    three = protocol_naming(region.centre, levels=(AFFECTED, named, REGION))
    crises = [
        make_crisis(region, three),  # level 1 -> 2: named desk, participants, affected
        make_crisis(region, make_escalation_protocol()),  # level 1 -> 2: regional, all states
        make_crisis(region, make_escalation_protocol(), exercise=True),  # drill traffic
        # the top level repeats (one-at-a-time path inside the batch)
        make_crisis(
            region,
            make_escalation_protocol(levels=(AFFECTED,), repeat_last_level=True, max_repeats=2),
        ),
        # nobody acknowledges the top level: unanswered
        make_crisis(region, make_escalation_protocol(levels=(AFFECTED,))),
        # a level action (notify every member state) on the next level
        make_crisis(
            region,
            make_escalation_protocol(
                levels=(AFFECTED, {**REGION, "actions": ["notify_all_states"]})
            ),
        ),
    ]
    # Acknowledged with an ack timeout: the ack-timeout deadline fires, the level again.
    timed = make_crisis(region, make_escalation_protocol(ack_timeout_seconds=1800))
    acknowledge_crisis(by=region.operator_a, crisis=timed, desk=region.desk_a)
    crises.append(timed)
    # Acknowledged before its level's deadline: the deadline is cancelled, nothing fires.
    acked = make_crisis(region, make_escalation_protocol())
    acknowledge_crisis(by=region.operator_a, crisis=acked, desk=region.desk_a)
    crises.append(acked)
    # Stopped under a deadline that was (wrongly) left pending: it fires and does nothing.
    stale = make_crisis(region, make_escalation_protocol())
    Crisis.objects.filter(pk=stale.pk).update(escalation_state=EscalationState.STOPPED)
    crises.append(stale)
    return crises


def make_due(crises: list[Crisis]) -> list[Deadline]:
    deadlines = list(
        Deadline.objects.filter(
            kind=DEADLINE_KIND,
            subject_key__in=[deadline_subject(c) for c in crises],
            state="pending",
        ).order_by("pk")
    )
    Deadline.objects.filter(pk__in=[d.pk for d in deadlines]).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )
    return deadlines


# --- what a firing leaves behind, without ids and times -------------------------------------

TIMES = [
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?"), "<time>"),
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"), "<minute>"),
]


def normalised(value, crisis: Crisis):
    text = json.dumps(value, sort_keys=True, default=str)
    for old, new in (
        (f"crisis:{crisis.pk}:", "crisis:<id>:"),
        (f"/crises/{crisis.pk}/", "/crises/<id>/"),
        (f'"crisis_id": {crisis.pk}', '"crisis_id": "<id>"'),
        (f'"id": {crisis.pk}', '"id": "<id>"'),
        (crisis.reference, "<reference>"),
        (crisis.title, "<title>"),
    ):
        text = text.replace(old, new)
    for pattern, new in TIMES:
        text = pattern.sub(new, text)
    return json.loads(text)


PAGE_FIELDS = ("desk__code", "urgency", "kind", "subject_key", "title", "body", "link_path",
               "payload", "state", "closed_reason", "exercise")  # fmt: skip
NOTIFICATION_FIELDS = ("desk__code", "kind", "title", "payload", "roles", "link_path",
                       "page_subject")  # fmt: skip


def records(crisis: Crisis) -> dict:
    crisis.refresh_from_db()
    subject = deadline_subject(crisis)
    pages = Page.objects.filter(subject_key__startswith=f"crisis:{crisis.pk}:")
    found = {
        "crisis": [
            crisis.status,
            crisis.escalation_state,
            crisis.current_level,
            crisis.level_repeats,
            crisis.level_deadline_at is None,
            crisis.level_deadline_at
            and round((crisis.level_deadline_at - crisis.level_entered_at).total_seconds()),
        ],
        "timeline": list(
            TimelineEntry.objects.filter(crisis=crisis)
            .order_by("seq")
            .values_list("seq", "kind", "actor_id", "desk_id", "payload")
        ),
        "participants": sorted(
            CrisisParticipant.objects.filter(crisis=crisis).values_list("desk__code", "role")
        ),
        "notifications": sorted(
            Notification.objects.filter(crisis=crisis).values_list(*NOTIFICATION_FIELDS),
            key=repr,
        ),
        "deadlines": sorted(
            (
                (d.kind, d.state, d.payload, d.enqueued_at is None)
                for d in Deadline.objects.filter(subject_key=subject)
            ),
            key=repr,
        ),
        "pages": sorted(pages.values_list(*PAGE_FIELDS), key=repr),
        "recipients": sorted(
            PageRecipient.objects.filter(page__in=pages).values_list(
                "page__subject_key", "page__desk__code", "user__username"
            )
        ),
        "attempts": sorted(
            DeliveryAttempt.objects.filter(page__in=pages).values_list(
                "page__subject_key", "recipient__user__username", "kind", "state", "failed_reason"
            )
        ),
    }
    return normalised(found, crisis)


class Listener:
    """A channel in every desk's group: the events the firings publish, per desk."""

    def __init__(self, desks):
        self.layer = get_channel_layer()
        self.loop = asyncio.new_event_loop()
        self.channels = {}
        for desk in desks:
            channel = async_to_sync(self.layer.new_channel)()
            async_to_sync(self.layer.group_add)(desk_group(desk.pk), channel)
            self.channels[desk.code] = (desk, channel)

    def drain(self) -> dict[str, list[dict]]:
        """Every event waiting for each desk (read on one loop for the whole test: the
        layer's receive buffers belong to the loop that first reads them)."""

        async def read(channel):
            frames = []
            while True:
                try:
                    frames.append(await asyncio.wait_for(self.layer.receive(channel), 0.3))
                except TimeoutError:
                    return frames

        return {
            code: [frame["event"] for frame in self.loop.run_until_complete(read(channel))]
            for code, (_desk, channel) in self.channels.items()
        }

    def close(self):
        for desk, channel in self.channels.values():
            async_to_sync(self.layer.group_discard)(desk_group(desk.pk), channel)
        self.loop.close()


def events_by_crisis(events: dict[str, list[dict]], crises: list[Crisis]) -> list:
    out = []
    for crisis in crises:
        mine = {
            code: [e for e in frames if e.get("crisis", {}).get("id") == crisis.pk]
            for code, frames in sorted(events.items())
        }
        out.append(normalised(mine, crisis))
    return out


# --- the proof ---------------------------------------------------------------------------------


def test_the_batch_path_leaves_exactly_what_the_single_path_leaves(
    region, django_capture_on_commit_callbacks
):
    desks = [region.desk_a, region.desk_b, region.desk_c, region.centre]
    listener = Listener(desks)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            one_by_one, batched = build(region), build(region)
        listener.drain()  # level 1's own events

        # One at a time: each deadline's own task (``fire_deadline``, the single handler).
        with django_capture_on_commit_callbacks(execute=True):
            for deadline in make_due(one_by_one):
                fire_deadline(deadline.pk, deadline.token)
        single_events = events_by_crisis(listener.drain(), one_by_one)

        # All at once: a slot task (``fire_due_deadlines``, the batch handler).
        due = make_due(batched)
        with django_capture_on_commit_callbacks(execute=True):
            assert fire_due_deadlines() == len(due) == 8
        batch_events = events_by_crisis(listener.drain(), batched)
    finally:
        listener.close()

    # One batch: every deadline fired in one transaction, at one instant.
    fired = Deadline.objects.filter(pk__in=[d.pk for d in due])
    assert {d.state for d in fired} == {"fired"}
    assert len({d.fired_at for d in fired}) == 1
    for single, batch in zip(one_by_one, batched, strict=True):
        assert records(batch) == records(single), single.title
    assert batch_events == single_events
    # And the scenario is not trivial: each way was taken.
    ways = [[e[1] for e in records(c)["timeline"]] for c in batched]
    assert ways[0] == ["level_entered", "level_expired", "level_entered"]
    assert ways[3][-2:] == ["level_expired", "level_entered"]  # repeated
    assert ways[4][-1] == "unanswered"
    assert ways[6][-2:] == ["ack_timed_out", "level_entered"]
    assert ways[7] == ["level_entered", "acknowledged"]
    assert ways[8] == ["level_entered"]
    assert any(batch_events[0].values()) and any(batch_events[1].values())
    # The hash chains the batch appended in one statement verify.
    for crisis in batched:
        assert (
            timeline.verify_stream(TimelineStream.objects.get(key=crisis.timeline_stream)) is None
        )


def test_a_batch_needs_a_constant_number_of_queries(region):
    """Ten or forty level expiries cost the same statements: nothing per firing (for a
    level whose desks have nobody to page and no earlier page still open: paging a person
    and closing an open page are still theirs each, see docs/escalation.md)."""
    quiet = make_desk(region.state_b, code="BBB-QUIET")
    second = {"name": "Quiet desk", "timeout_seconds": 900}

    def fire(n: int) -> int:
        version = protocol_naming(quiet, levels=(AFFECTED, second))
        crises = [make_crisis(region, version) for _ in range(n)]
        Page.objects.update(state="closed")
        make_due(crises)
        with CaptureQueriesContext(connection) as queries:
            assert fire_due_deadlines() == n
        moved = Crisis.objects.filter(pk__in=[c.pk for c in crises], current_level=2)
        assert moved.count() == n
        assert Notification.objects.filter(desk=quiet, crisis__in=crises).count() == n
        return len(queries)

    assert fire(10) == fire(40) < 40


@pytest.mark.django_db(transaction=True)
def test_a_crisis_held_by_another_action_is_handed_back_and_fires_later(region):
    """The batch locks crises without waiting: one held by another transaction (an
    acknowledgement in progress) is put back to pending, neither fired nor failed, and a
    later batch fires it; the others fire at once."""
    version = make_escalation_protocol()
    held, free = make_crisis(region, version), make_crisis(region, version)
    make_due([held, free])
    holding, fired = threading.Event(), threading.Event()
    outcome = {}

    def hold():
        with transaction.atomic():
            Crisis.objects.select_for_update().get(pk=held.pk)
            holding.set()
            fired.wait(timeout=20)

    def fire():
        holding.wait(timeout=20)
        try:
            outcome["fired"] = fire_due_deadlines()
        finally:
            fired.set()

    assert run_together(hold, fire) == []
    assert outcome["fired"] == 1
    held.refresh_from_db()
    free.refresh_from_db()
    assert (held.current_level, free.current_level) == (1, 2)
    deadline = pending_deadline(held)
    assert deadline is not None and deadline.attempts == 0 and deadline.last_error == ""
    assert fire_due_deadlines() == 0  # not before the busy retry
    Deadline.objects.filter(pk=deadline.pk).update(last_attempt_at=None)  # time passes
    assert fire_due_deadlines() == 1
    held.refresh_from_db()
    assert held.current_level == 2
    assert [e.kind for e in held.timeline.order_by("seq")] == [
        "level_entered",
        "level_expired",
        "level_entered",
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(4))
def test_ack_racing_a_batch_has_exactly_one_outcome(region, round_):
    """Grafana OnCall #3161 against the batch path: whichever wins, one outcome."""
    version = make_escalation_protocol()
    crisis, other = make_crisis(region, version), make_crisis(region, version)
    make_due([crisis, other])

    def acknowledge():
        acknowledge_crisis(by=region.operator_a, crisis=crisis, desk=region.desk_a)

    targets = (acknowledge, fire_due_deadlines)
    assert run_together(*(targets if round_ % 2 else targets[::-1])) == []
    Deadline.objects.filter(kind=DEADLINE_KIND, state="pending").update(last_attempt_at=None)
    fire_due_deadlines()
    crisis.refresh_from_db()
    entries = [e.kind for e in crisis.timeline.order_by("seq")]
    assert entries in (
        ["level_entered", "acknowledged"],
        ["level_entered", "level_expired", "level_entered", "acknowledged"],
    )
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED
    assert pending_deadline(crisis) is None
    other.refresh_from_db()
    assert other.current_level == 2
