"""The console's frame in a browser: log in and out, the desk switcher, error pages."""

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from crisis.models import Crisis, CrisisCategory
from directory.models import DeskMembership, Role
from tests.browser.conftest import screenshot, wait_socket_open

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _set_password(user, raw: str) -> None:
    # The test settings hash with MD5 for speed; the server only knows its own hashers.
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(raw, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])


def test_log_in_switch_desk_and_log_out(people, region):
    # op-a also works on the regional centre's desk: the switcher appears.
    DeskMembership.objects.create(user=region.operator_a, desk=region.centre, role=Role.AUDITOR)
    _set_password(region.operator_a, "a-good-password")
    page = people.new_page()
    page.goto("/")
    assert "/login/" in page.url
    page.get_by_label("Username").fill("op-a")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("Your username and password")
    page.get_by_label("Password").fill("a-good-password")
    page.get_by_label("Username").fill("op-a")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=f"Dashboard — {region.desk_a.name}").wait_for()
    wait_socket_open(page)
    screenshot(page, "dashboard-empty")

    page.get_by_label("Desk", exact=True).select_option(label="RCC")
    page.get_by_role("heading", name=f"Dashboard — {region.centre.name}").wait_for()
    assert "You now work for" in page.locator(".messages").inner_text()

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in").wait_for()
    page.goto("/")
    assert "/login/" in page.url


def test_hidden_crisis_is_a_404_page(people, region):
    crisis = Crisis.objects.create(
        reference="CR-T-1",
        title="Ferry aground",
        category=CrisisCategory.MARITIME,
        severity=3,
        reported_by_desk=region.desk_a,
        lead_desk=region.desk_a,
    )
    crisis.affected_states.set([region.state_a, region.state_b])
    people.allow_console_error("status of 404")
    page = people.new_page(region.operator_c)
    response = page.goto(f"/crises/{crisis.pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found (404)").is_visible()
    screenshot(page, "crisis-404")
    page_b = people.new_page(region.operator_b)
    assert page_b.goto(f"/crises/{crisis.pk}/").status == 200
    page_b.get_by_role("heading", name="CR-T-1 — Ferry aground").wait_for()
