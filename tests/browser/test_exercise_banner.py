"""Exercise mode in a browser: an operator starts a drill from the report form; the
exercise banner is then on every console page of every participant (desks of the
reporting and the affected states), and on none of a desk that takes no part."""

import pytest

from crisis.models import Crisis
from tests.browser.conftest import screenshot, wait_socket_open

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MARK = "EXERCISE EXERCISE EXERCISE"
#: Every console page a desk reads (the crisis's own pages are added per test).
PAGES = ["/", "/crises/new/", "/notifications/", "/lines/", "/aid/", "/account/two-step/"]


def banner_on(page, path: str) -> bool:
    page.goto(path)
    page.locator("main").wait_for()
    banners = page.locator("[data-banner=exercise]")
    if banners.count() == 0:
        return False
    assert banners.first.is_visible(), path
    assert MARK in banners.first.inner_text(), path
    return True


def test_a_drill_is_marked_on_every_page_of_every_participant_and_no_one_else(people, region):
    a = people.new_page(region.operator_a)
    a.goto("/crises/new/")
    assert a.locator("[data-banner=exercise]").count() == 0  # no drill yet
    a.get_by_label("Category").select_option("maritime")
    a.get_by_label("Title").fill("ARDEX drill: ferry capsized")
    a.get_by_label("Severity").select_option(label="Severe")
    a.get_by_label("State B (BBB)").check()
    a.get_by_label("This is an exercise (drill)").check()
    a.get_by_role("button", name="Report crisis").click()
    a.get_by_role("heading", name="— ARDEX drill: ferry capsized").wait_for()
    crisis = Crisis.objects.get()
    assert crisis.exercise is True
    assert a.locator("#exercise-mark").is_visible()
    wait_socket_open(a)
    screenshot(a, "exercise-crisis")

    own = [f"/crises/{crisis.pk}/", f"/aid/{crisis.pk}/"]
    b = people.new_page(region.operator_b)
    for page in (a, b):  # the reporting desk and the affected state's desk
        for path in PAGES + own:
            assert banner_on(page, path), path
    b.goto("/")
    row = b.locator("#exercise-table tr", has_text=crisis.reference)
    assert row.get_by_text("EXERCISE", exact=True).is_visible()
    assert b.locator("#crisis-table").count() == 0  # no real crisis listed with it
    screenshot(b, "exercise-dashboard")

    c = people.new_page(region.operator_c)  # state C takes no part
    for path in PAGES:
        assert not banner_on(c, path), path
    # A real crisis reported meanwhile is never marked, even for the drill's participants.
    a.goto("/crises/new/")
    a.get_by_label("Category").select_option("maritime")
    a.get_by_label("Title").fill("Tanker aground")
    a.get_by_label("Severity").select_option(label="Severe")
    a.get_by_role("button", name="Report crisis").click()
    a.get_by_role("heading", name="— Tanker aground").wait_for()
    assert a.locator("#exercise-mark").count() == 0
    a.goto("/")
    assert a.locator("#crisis-table tr", has_text="Tanker aground").count() == 1
    assert a.locator("#crisis-table [data-exercise]").count() == 0
