"""Shared helpers of the exercises tests: a scenario on the test region, and time travel
for injects (their deadlines brought forward, then fired by the engine itself)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deadlines.models import Deadline, DeadlineState
from deadlines.services import fire_due_deadlines
from exercises import services
from exercises.injects import INJECT_KIND

SCENARIO = """\
name: Strait ferry drill
description: A ferry capsizes between A and B.
crisis:
  category: maritime
  title: Ferry capsized in the strait (drill)
  severity: 4
  affected_states: [AAA, BBB]
  lead_desk: AAA-DESK
injects:
  - at: T+0
    what: CAP alert from the met agency
    type: cap_alert
    sender: met.example.org
    sender_name: Met agency of A
    headline: Gale warning in the strait
  - at: T+5 min
    what: B reports a shelter at capacity
    type: shelter
    desk: BBB-DESK
    name: Harbour school
    capacity: 120
    population: 120
  - at: T+12 min
    what: B requests 200 tents
    type: request
    desk: BBB-DESK
    sector: shelter
    item: family_tent
    quantity: 200
  - at: T+15 min
    type: situation_update
    desk: AAA-DESK
    conditions: Forty people rescued so far.
  - at: T+20 min
    type: message
    desk: BBB-DESK
    body: Our coast guard is on scene.
  - at: T+30 min
    type: transition
    to: active
    reason: The drill goes on.
"""


@pytest.fixture
def scenario(region):
    """The drill above, uploaded by the coordinator; its key."""
    return services.upload_scenario(by=region.coordinator, source=SCENARIO).key


def play_until(run, scenario_seconds: int) -> int:
    """Fire, through the engine, every inject of ``run`` due by ``scenario_seconds`` of
    scenario time (their deadlines are moved to now first). Returns how many fired."""
    run.refresh_from_db()
    cutoff = run.started_at + timedelta(
        seconds=run.paused_seconds + scenario_seconds / run.speed + 0.001
    )
    now = timezone.now()
    Deadline.objects.filter(
        kind=INJECT_KIND, state=DeadlineState.PENDING, due_at__lte=cutoff
    ).update(due_at=now - timedelta(seconds=1))
    return fire_due_deadlines()
