"""The after-action review in a browser: the coordinator drafts it from the record, edits
it, adds an action and publishes it; B (a party) reads it and gets the follow-up task.
Also the performance pages and their server-drawn charts (no script, strict CSP)."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from crisis.lifecycle import FOLLOW_UP_ROLE
from crisis.models import CrisisTask
from crisis.services import crises as crisis_services
from review.models import Review
from tests.browser.conftest import screenshot
from tests.crisis.factories import activate, make_protocol, report

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _resolved_crisis(region):
    make_protocol("maritime")
    crisis = activate(region, report(region))
    crisis_services.acknowledge_crisis(by=region.operator_b, desk=region.desk_b, crisis=crisis)
    for status in ("de_escalating", "resolved"):
        crisis = crisis_services.transition_crisis(
            by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status=status
        )
    return crisis


def test_coordinator_drafts_and_publishes_the_review(people, region):
    crisis = _resolved_crisis(region)
    coord = people.new_page(region.coordinator)
    coord.goto(f"/crises/{crisis.pk}/")
    coord.get_by_role("link", name="Draft the after-action review").click()
    coord.get_by_role("button", name="Draft the review").click()
    coord.get_by_text("The review is drafted from the record").wait_for()
    assert crisis.reference in coord.get_by_label("What happened").input_value()
    assert coord.locator("#review-status").get_attribute("data-status") == "draft"

    coord.get_by_label("What went well").fill("B acknowledged level 1 within minutes.")
    coord.get_by_label("What to change").fill("Page A's operators by SMS as well.")
    due = (timezone.now() + timedelta(days=10)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    coord.get_by_label("Action 1", exact=True).fill("Register SMS contact methods")
    coord.get_by_label("Owner desk 1", exact=True).select_option("BBB-DESK")
    coord.get_by_label("Owner 1", exact=True).fill("op-b")
    coord.get_by_label("Due (UTC) 1", exact=True).fill(due)
    coord.get_by_role("button", name="Save the draft").click()
    coord.get_by_text("Review saved.").wait_for()
    assert coord.get_by_label("Action 1", exact=True).input_value() == (
        "Register SMS contact methods"
    )
    screenshot(coord, "review-draft")

    # B (a party, not an editor) does not see the draft yet.
    b = people.new_page(region.operator_b)
    b.goto(f"/crises/{crisis.pk}/review/")
    b.locator("#no-review").wait_for()

    coord.get_by_role("button", name="Publish to the parties").click()
    coord.get_by_text("The review is published to the parties").wait_for()
    assert coord.locator("#review-status").get_attribute("data-status") == "published"
    assert coord.get_by_role("button", name="Save the draft").count() == 0  # read-only
    review = Review.objects.get(crisis=crisis)
    assert review.is_published and review.published_by == region.coordinator
    task = CrisisTask.objects.get(crisis=crisis, party_role=FOLLOW_UP_ROLE)
    assert (task.desk, task.title) == (region.desk_b, "Register SMS contact methods")

    b.goto(f"/crises/{crisis.pk}/review/")
    b.locator("#review-actions", has_text="Register SMS contact methods").wait_for()
    assert "Page A's operators by SMS" in b.locator("#review-text").inner_text()
    screenshot(b, "review-published")


def test_performance_pages_draw_their_charts(people, region):
    crisis = _resolved_crisis(region)
    a = people.new_page(region.supervisor_a)
    a.goto(f"/crises/{crisis.pk}/performance/")
    a.locator("svg.perf-chart").first.wait_for()
    assert a.locator("#perf-desks tr[data-desk=BBB-DESK]").is_visible()
    assert a.locator("[data-figure=escalations_taken]").inner_text() == "0"
    screenshot(a, "crisis-performance")
    a.get_by_role("link", name="AAA-DESK").click()
    a.locator("#trend").wait_for()
    a.get_by_label("Per", exact=True).select_option("month")
    a.get_by_role("button", name="Show").click()
    a.locator("#perf-periods tr[data-period]").nth(5).wait_for()
    screenshot(a, "desk-performance")
