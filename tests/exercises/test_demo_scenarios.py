"""The shipped demo scenarios validate and play, every inject, on ``seed_demo``'s data."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from exercises import services
from exercises.api import visible_scenarios
from exercises.models import InjectStatus
from tests.exercises.conftest import play_until

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("key", ["andaman-tsunami", "south-china-sea-maritime"])
def test_a_demo_scenario_plays_every_inject_on_the_demo_data(key):
    call_command("seed_demo", verbosity=0)
    coordinator = get_user_model().objects.get(username="coordinator")
    from directory.access import access_for

    listed = {s["key"]: s for s in visible_scenarios(access_for(coordinator))}
    assert listed[key]["problems"] == []

    run = services.start_run(by=coordinator, scenario_key=key, speed=60)
    assert run.crisis.exercise
    play_until(run, 7 * 24 * 3600)
    outcomes = list(run.injects.values_list("what", "status", "outcome"))
    assert {status for _what, status, _outcome in outcomes} == {InjectStatus.PLAYED}, outcomes
    run.crisis.refresh_from_db()
    assert run.crisis.status == "active"
