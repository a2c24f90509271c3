"""Attention: a flash message from another desk changes the tab's title and shows a
desktop notification (permission granted), and stays listed on every console page
until the desk acknowledges it."""

import pytest

from hotline.services.channels import set_up_bilateral_channel
from tests.browser.conftest import outside_browser_loop, screenshot, wait_socket_open
from tests.browser.test_notifications_console import RECORD_NOTIFICATIONS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_flash_message_titles_notifies_and_stays_until_acknowledged(people, region, live_url):
    line = outside_browser_loop(
        set_up_bilateral_channel,
        by=region.coordinator,
        desk_id=region.desk_a.pk,
        peer_desk_id=region.desk_b.pk,
    )
    b = people.new_page(region.operator_b)
    b.context.grant_permissions(["notifications"], origin=live_url)
    b.add_init_script(RECORD_NOTIFICATIONS)
    b.goto("/")  # the dashboard follows the desk's lines
    wait_socket_open(b)
    plain_title = b.title()
    assert not plain_title.startswith("(")
    assert b.locator("#attention [data-attention]").count() == 0

    a = people.new_page(region.operator_a)
    a.goto(f"/lines/{line.pk}/")
    wait_socket_open(a)
    a.wait_for_selector("#conversation[data-subscribed]", state="attached")
    a.get_by_role("textbox", name="Message").fill("Flash: armed vessel sighted")
    a.get_by_label("Priority").select_option("flash")
    a.get_by_role("button", name="Send").click()

    b.wait_for_function("() => document.title.startsWith('(1) ')")
    assert b.title() == f"(1) \u26a0 {plain_title}"
    shown = b.evaluate("window.__shown")
    assert [n["title"] for n in shown] == ["Flash message on a hotline"]
    assert "armed vessel" in shown[0]["body"]
    item = b.locator("#attention [data-attention^='message:']")
    item.wait_for()
    assert "Flash message from AAA-DESK" in item.inner_text()
    screenshot(b, "attention-dashboard")

    # Still there on another page, until handled.
    b.goto("/map/")
    b.locator("#attention [data-attention^='message:']").wait_for()
    assert b.title().startswith("(1) ")
    b.locator("#attention a").first.click()
    b.wait_for_selector("#conversation[data-subscribed]", state="attached")
    b.get_by_role("button", name="Acknowledge flash message #1").click()
    b.locator("#attention [data-attention]").wait_for(state="detached")
    b.wait_for_function("() => !document.title.startsWith('(')")
    b.goto("/notifications/")
    assert b.locator("#attention [data-attention]").count() == 0
