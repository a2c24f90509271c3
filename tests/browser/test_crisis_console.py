"""Acceptance scenario 1 in a browser: A reports a crisis, B sees it appear without a
reload and acknowledges, A sees the acknowledgement; plus the report form's validation."""

import pytest

from crisis.models import Crisis, CrisisStatus, EscalationAck
from tests.browser.conftest import screenshot, wait_socket_open
from tests.crisis.crisis_helpers import make_protocol

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_report_live_on_other_desk_acknowledge_seen_by_reporter(people, region, celery_worker):
    make_protocol("maritime")
    b = people.new_page(region.operator_b)
    b.goto("/")
    wait_socket_open(b)
    assert b.get_by_text("No open crisis concerns your desk.").is_visible()

    a = people.new_page(region.operator_a)
    a.goto("/crises/new/")
    assert a.get_by_label("State A (AAA)").is_checked()  # the desk's own state, preset
    a.get_by_label("State A (AAA)").uncheck()
    a.get_by_role("button", name="Report crisis").click()
    assert a.locator("#category-errors").inner_text() == "This field is required."
    assert a.locator("#affected_states-errors").is_visible()
    a.get_by_label("Category").select_option("maritime")
    a.get_by_label("Title").fill("Ferry capsized in the strait")
    a.get_by_label("Severity").select_option(label="Severe")
    a.get_by_label("State A (AAA)").check()
    a.get_by_label("State B (BBB)").check()
    a.get_by_label("Latitude").fill("7.5")
    screenshot(a, "report-form")
    a.get_by_role("button", name="Report crisis").click()
    assert "Give both latitude and longitude" in a.locator("#form-errors").inner_text()
    assert Crisis.objects.count() == 0
    a.get_by_label("Longitude").fill("98.2")
    a.get_by_role("button", name="Report crisis").click()
    a.get_by_role("heading", name="— Ferry capsized in the strait").wait_for()
    crisis = Crisis.objects.get()
    wait_socket_open(a)

    # B's dashboard shows it without a reload.
    b.locator("#crisis-table tr", has_text=crisis.reference).wait_for()
    assert (
        b.locator("#crisis-table tr", has_text=crisis.reference).get_by_text("Severe").is_visible()
    )

    # A's supervisor activates it: the protocol's ladder starts (level 1, a deadline).
    sup = people.new_page(region.supervisor_a)
    sup.goto(f"/crises/{crisis.pk}/")
    sup.get_by_role("button", name="Activate").click()
    sup.locator("#crisis-status", has_text="Active").wait_for()
    crisis.refresh_from_db()
    assert crisis.status == CrisisStatus.ACTIVE and crisis.current_level == 1

    # B is asked to acknowledge, live; the countdown ticks.
    waiting = b.locator("#awaiting li", has_text=crisis.reference)
    waiting.wait_for()
    assert waiting.locator("[data-countdown]").inner_text().count(":") == 1
    screenshot(b, "dashboard-awaiting-ack")
    waiting.get_by_role("link").click()
    b.get_by_role("button", name="Acknowledge for BBB-DESK").click()
    b.get_by_text("BBB-DESK has acknowledged").wait_for()
    assert EscalationAck.objects.filter(crisis=crisis, desk=region.desk_b).count() == 1

    # A's crisis page, open all along, shows the acknowledgement and the timeline entry.
    a.locator("#acknowledgements", has_text="BBB-DESK acknowledged level 1").wait_for()
    a.locator("#timeline li", has_text="acknowledged").first.wait_for()
    assert a.locator(".ladder li[aria-current=step]").count() == 0
    screenshot(a, "crisis-page-acknowledged")
    b.goto("/")
    assert b.locator("#awaiting li", has_text=crisis.reference).count() == 0
    screenshot(b, "dashboard")
