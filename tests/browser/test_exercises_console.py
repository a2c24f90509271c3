"""The exercise controller's console: a coordinator starts a demo scenario and watches
its injects fire (played by the real worker), then pauses and resumes it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from exercises.models import ExerciseRun, InjectStatus
from tests.browser.conftest import outside_browser_loop, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_coordinator_starts_a_demo_scenario_and_sees_injects_fire(people, celery_worker):
    outside_browser_loop(call_command, "seed_demo", verbosity=0)
    coordinator = get_user_model().objects.get(username="coordinator")
    page = people.new_page(coordinator)
    page.goto("/exercises/")
    row = page.locator("#scenario-andaman-tsunami")
    row.get_by_text("Andaman Sea tsunami").wait_for()
    row.get_by_label("Speed").select_option("60")
    row.get_by_role("button", name="Start exercise").click()

    page.get_by_role("heading", name="Injects").wait_for()
    run = ExerciseRun.objects.get()
    assert run.crisis.exercise and run.speed == 60
    # T+0 (the CAP alert) and T+2 min (activation: 2 s at speed 60) fire without a reload.
    first = run.injects.get(at_seconds=0)
    page.locator(f"#inject-{first.pk}[data-status=played]").wait_for()
    activation = run.injects.get(type="transition")
    page.locator(f"#inject-{activation.pk}[data-status=played]").wait_for()
    assert "Played" in page.locator(f"#inject-{activation.pk} .inject-status").inner_text()
    assert "UTC" in page.locator(f"#inject-{activation.pk}").inner_text()
    screenshot(page, "exercise-run")

    page.get_by_role("button", name="Pause").click()
    page.locator("#run-status[data-status=paused]").wait_for()
    assert run.injects.filter(status=InjectStatus.HELD).exists()
    page.get_by_label("Add an inject").fill("type: situation_update\nconditions: Drill note.")
    page.get_by_role("button", name="Add inject").click()
    page.get_by_text("Inject added.").wait_for()
    page.get_by_role("button", name="Resume").click()
    page.locator("#run-status[data-status=running]").wait_for()
    added = run.injects.get(added_by=coordinator)
    page.locator(f"#inject-{added.pk}[data-status=played]").wait_for()
