"""A drill end to end, through the console only where a person would use it: the regional
coordinator starts the Andaman Sea tsunami scenario (played by the real worker); the
exercise banner is on every page of every participant (the lead desk's and an affected
state's operators), on none of a desk outside it; once the drill is over, the coordinator
drafts the after-action review from the record and publishes it to the parties."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from crisis.services import crises as crisis_services
from directory.models import Desk, DeskMembership, Role
from exercises.models import ExerciseRun
from review.models import Review
from tests.browser.conftest import outside_browser_loop, screenshot
from tests.browser.test_exercise_banner import banner_on

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def member(desk_code: str, role: str):
    return (
        DeskMembership.objects.filter(desk__code=desk_code, role=role)
        .select_related("user")
        .order_by("user__username")
        .first()
        .user
    )


def console_pages(page) -> list[str]:
    """Every page the console's navigation offers this person, and the crisis's own."""
    page.goto("/")
    hrefs = page.locator("header nav a[href^='/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return sorted({h.split("#")[0] for h in hrefs if not h.startswith("/admin")})


def test_a_drill_from_scenario_to_published_review(people, celery_worker):
    outside_browser_loop(call_command, "seed_demo", verbosity=0)
    coordinator = get_user_model().objects.get(username="coordinator")
    coord = people.new_page(coordinator)
    coord.goto("/exercises/")
    row = coord.locator("#scenario-andaman-tsunami")
    row.get_by_label("Speed").select_option("60")
    row.get_by_role("button", name="Start exercise").click()
    coord.get_by_role("heading", name="Injects").wait_for()
    run = ExerciseRun.objects.get()
    crisis = run.crisis
    assert crisis.exercise and crisis.lead_desk.code == "THA-DDPM"
    activation = run.injects.get(type="transition")
    coord.locator(f"#inject-{activation.pk}[data-status=played]").wait_for()

    # Every participant sees the drill marked on every page it reads.
    own = [f"/crises/{crisis.pk}/", f"/aid/{crisis.pk}/"]
    for desk_code in ("THA-DDPM", "IDN-BNPB"):  # the lead desk, an affected state's desk
        page = people.new_page(member(desk_code, Role.OPERATOR))
        paths = console_pages(page) + own
        assert len(paths) >= 8, paths
        for path in paths:
            assert banner_on(page, path), (desk_code, path)
        screenshot(page, f"drill-{desk_code.lower()}")
    drill_states = ["THA", "IDN", "MYS", "MMR"]
    outside = Desk.objects.filter(kind="national").exclude(state__code__in=drill_states).first()
    stranger = people.new_page(member(outside.code, Role.OPERATOR))
    assert not banner_on(stranger, "/")

    # The drill is over: the lead desk's supervisor stands it down and resolves it.
    supervisor = member("THA-DDPM", Role.SUPERVISOR)
    for status in ("de_escalating", "resolved"):
        outside_browser_loop(
            crisis_services.transition_crisis,
            by=supervisor, desk=crisis.lead_desk, crisis=crisis, to_status=status,
        )  # fmt: skip

    # The coordinator drafts the review from the record and publishes it to the parties.
    coord.goto(f"/crises/{crisis.pk}/")
    assert coord.locator("[data-banner=exercise]").count() == 1
    coord.get_by_role("link", name="Draft the after-action review").click()
    coord.get_by_role("button", name="Draft the review").click()
    coord.get_by_text("The review is drafted from the record").wait_for()
    assert crisis.reference in coord.get_by_label("What happened").input_value()
    coord.get_by_label("What went well").fill("The crisis room was open within minutes.")
    coord.get_by_label("What to change").fill("Shelter capacity reported earlier.")
    coord.get_by_role("button", name="Save the draft").click()
    coord.get_by_text("Review saved.").wait_for()
    coord.get_by_role("button", name="Publish to the parties").click()
    coord.get_by_text("The review is published to the parties").wait_for()
    review = Review.objects.get(crisis=crisis)
    assert review.is_published and review.published_by == coordinator
    screenshot(coord, "drill-review-published")

    # A participant reads the published review.
    idn = people.new_page(member("IDN-BNPB", Role.OPERATOR))
    idn.goto(f"/crises/{crisis.pk}/review/")
    assert "Shelter capacity reported earlier." in idn.locator("#review-text").inner_text()
