from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from directory.models import Desk
from rosters.models import Shift
from rosters.selectors import on_duty

pytestmark = pytest.mark.django_db


def test_after_one_seed_every_desk_has_one_person_on_duty_around_the_clock():
    call_command("seed_demo")
    shifts = Shift.objects.count()
    call_command("seed_demo")
    assert Shift.objects.count() == shifts == Desk.objects.count()
    now = timezone.now()
    for desk in Desk.objects.all():
        for hours in (0, 7, 13, 23):
            answer = on_duty(desk, at=now + timedelta(hours=hours))
            assert len(answer.people) == 1 and not answer.is_fallback, desk.code
