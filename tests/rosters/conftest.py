"""Rosters in a Bangkok (UTC+7) desk A and a Yangon (UTC+6:30) desk, with their people."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from directory.models import Role
from rosters import services
from tests.factories import make_desk, make_person

BANGKOK = ZoneInfo("Asia/Bangkok")
YANGON = ZoneInfo("Asia/Yangon")


def bkk(*args) -> datetime:
    return datetime(*args, tzinfo=BANGKOK)


def ygn(*args) -> datetime:
    return datetime(*args, tzinfo=YANGON)


@pytest.fixture
def roster_a(region):
    """Desk A (Asia/Bangkok) with a second operator; its roster, empty."""
    region.operator_a2 = make_person(region.desk_a, Role.OPERATOR, username="op-a2")
    roster, _ = services.open_roster(by=region.supervisor_a, desk=region.desk_a)
    return roster


@pytest.fixture
def yangon(region):
    """A second desk of state A, in Asia/Yangon, staffed by op-a and sup-a too."""
    from directory.models import DeskMembership

    desk = make_desk(region.state_a, code="AAA-YGN", time_zone="Asia/Yangon")
    for user, role in ((region.operator_a, Role.OPERATOR), (region.supervisor_a, Role.SUPERVISOR)):
        DeskMembership.objects.create(user=user, desk=desk, role=role)
    region.__dict__.pop("_crisis_access", None)
    for user in (region.operator_a, region.supervisor_a):
        user.__dict__.pop("_crisis_access", None)
    roster, _ = services.open_roster(by=region.supervisor_a, desk=desk)
    return roster
