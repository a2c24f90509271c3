"""A clock the tests move by hand, and a crisis played through the services at known times.

``clock`` replaces ``django.utils.timezone.now`` (which every service, ``auto_now_add``
field and the deadline engine read) with a time the test sets: the record then holds
exactly the timestamps the test chose, so the figures can be computed by hand.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from crisis.models import Crisis, CrisisTask
from crisis.services import crises as crisis_services
from hotline.services import channels as line_services
from hotline.services import messages as message_services
from hotline.services import receipts
from humanitarian.services import assistance
from tests.crisis.factories import expire, make_version


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, at: datetime) -> None:
        self.now = at

    def at(self, minutes: float, base: datetime) -> None:
        self.now = base + timedelta(minutes=minutes)


@pytest.fixture
def clock(monkeypatch):
    """Time stands still at the value the test sets (``clock.set`` / ``clock.at``)."""
    c = Clock(datetime(2026, 10, 5, 3, 0, tzinfo=UTC))
    monkeypatch.setattr(timezone, "now", c)
    return c


#: The protocol of the scripted crises: two levels (10 min, 15 min), two checklist items.
LEVELS = [
    {"name": "Affected states", "timeout_seconds": 600, "notify_scopes": ["affected"]},
    {"name": "Region", "timeout_seconds": 900, "notify_scopes": ["regional", "all_states"],
     "notify_roles": ["supervisor", "coordinator"]},
]  # fmt: skip
CHECKLIST = [
    {"party_role": "all", "title": "Confirm focal point", "due_after_minutes": 30},
    {"party_role": "lead", "title": "Send initial report", "due_after_minutes": 120},
]


@pytest.fixture
def protocol(db):
    return make_version(name="Review test protocol", levels=LEVELS, checklist=CHECKLIST)


@dataclass
class Script:
    crisis: Crisis
    t0: datetime


def report_and_activate(region, clock, t0: datetime, *, exercise: bool = False) -> Crisis:
    """T+0 desk A reports (A and B affected); T+1 min A's supervisor activates (level 1)."""
    clock.set(t0)
    crisis = crisis_services.report_crisis(
        by=region.operator_a, desk=region.desk_a, category="maritime",
        title="Ferry aground", severity=3, affected_state_codes=["AAA", "BBB"],
        exercise=exercise,
    )  # fmt: skip
    clock.at(1, t0)
    return crisis_services.transition_crisis(
        by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="active"
    )


def resolve(region, clock, crisis, at: datetime) -> Crisis:
    clock.set(at)
    for status in ("de_escalating", "resolved"):
        crisis = crisis_services.transition_crisis(
            by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status=status
        )
    return crisis


def acknowledge(region, crisis, who: str) -> None:
    person, desk = {
        "a": (region.operator_a, region.desk_a),
        "b": (region.operator_b, region.desk_b),
        "c": (region.operator_c, region.desk_c),
    }[who]
    crisis_services.acknowledge_crisis(by=person, desk=desk, crisis=crisis)


def play_scripted_crisis(region, clock, t0: datetime, *, exercise: bool = False) -> Crisis:
    """The crisis whose figures ``tests/review/test_performance.py`` computes by hand.

    T+0 reported · T+1 activated, level 1 (A, B) · T+11 level 1 expires, level 2 (A, B, C,
    RCC) · T+15 B acknowledges · T+17 A acknowledges · T+20 A ticks "Confirm focal point"
    (due T+31) · T+20 the coordinator opens a room (A, B, RCC) · T+21 A sends a flash
    message · T+23 B acknowledges it (RCC never does) · T+30 A requests 100 tents, B
    pledges 40 and 20, A accepts both · T+40 B dispatches the 40 · T+50 B ticks "Confirm
    focal point" (19 min late) · T+60 A confirms 38 received · T+180 resolved. A never
    sends its initial report (due T+121).
    """
    crisis = report_and_activate(region, clock, t0, exercise=exercise)
    clock.at(11, t0)
    expire(crisis)
    clock.at(15, t0)
    acknowledge(region, crisis, "b")
    clock.at(17, t0)
    acknowledge(region, crisis, "a")
    clock.at(20, t0)
    task_a = CrisisTask.objects.get(crisis=crisis, desk=region.desk_a, item_order=1)
    crisis_services.set_task_done(by=region.operator_a, task=task_a, done=True)
    room = line_services.open_crisis_room(
        by=region.coordinator, name="Ferry room", desk_ids=[region.desk_a.pk, region.desk_b.pk],
        crisis_ref=crisis.reference,
    )  # fmt: skip
    clock.at(21, t0)
    flash, _ = message_services.send_message(
        by=region.operator_a, channel_id=room.pk, body="Second vessel in distress",
        client_msg_id=uuid.uuid4(), priority="flash", desk_id=region.desk_a.pk,
    )  # fmt: skip
    clock.at(23, t0)
    receipts.acknowledge_message(by=region.operator_b, message_id=flash.pk)
    clock.at(30, t0)
    request = assistance.create_request(
        by=region.operator_a, desk=region.desk_a, crisis=crisis, sector="shelter",
        item="family_tent", quantity=100, needed_by=clock.now + timedelta(hours=12), submit=True,
    )  # fmt: skip
    pledges = [
        assistance.make_pledge(
            by=region.operator_b,
            desk=region.desk_b,
            request_id=request.pk,
            quantity=q,
            eta=clock.now + timedelta(hours=6),
        )
        for q in (40, 20)
    ]
    for pledge in pledges:
        assistance.accept_pledge(by=region.operator_a, pledge_id=pledge.pk)
    clock.at(40, t0)
    assistance.dispatch_pledge(by=region.operator_b, pledge_id=pledges[0].pk)
    clock.at(50, t0)
    task_b = CrisisTask.objects.get(crisis=crisis, desk=region.desk_b, item_order=1)
    crisis_services.set_task_done(by=region.operator_b, task=task_b, done=True)
    clock.at(60, t0)
    assistance.confirm_delivery(by=region.operator_a, pledge_id=pledges[0].pk, quantity_received=38)
    return resolve(region, clock, crisis, t0 + timedelta(minutes=180))
