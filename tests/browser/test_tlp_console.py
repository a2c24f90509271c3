"""TLP labels in the console, in a browser: chosen when sending, shown live in FIRST's
colours, and a RED message never reaching a coordinator who is not on the line."""

import pytest

from hotline.models import Message
from hotline.services.channels import set_up_bilateral_channel
from tests.browser.conftest import outside_browser_loop, screenshot, wait_socket_open

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def line_ab(region):
    return outside_browser_loop(
        set_up_bilateral_channel,
        by=region.coordinator,
        desk_id=region.desk_a.pk,
        peer_desk_id=region.desk_b.pk,
    )


def open_line(page, line):
    page.goto(f"/lines/{line.pk}/")
    wait_socket_open(page)
    page.wait_for_selector("#conversation[data-subscribed]", state="attached")


def test_a_red_message_is_labelled_live_and_withheld_from_the_centre(people, region, line_ab):
    a = people.new_page(region.operator_a)
    b = people.new_page(region.operator_b)
    centre = people.new_page(region.coordinator)
    for page in (a, b, centre):
        open_line(page, line_ab)

    a.get_by_role("textbox", name="Message").fill("Boarding team ready: red")
    assert a.get_by_label("Marking (TLP)").input_value() == "AMBER"  # the default
    a.get_by_label("Marking (TLP)").select_option("RED")
    a.get_by_role("button", name="Send").click()
    a.get_by_role("status").filter(has_text="Sent as").wait_for()
    a.get_by_role("textbox", name="Message").fill("Weather clearing: green")
    a.get_by_label("Marking (TLP)").select_option("GREEN")
    a.get_by_role("button", name="Send").click()
    a.get_by_role("status").filter(has_text="Sent as #2").wait_for()

    red = b.locator("#conversation li", has_text="Boarding team ready")
    red.wait_for()
    label = red.locator(".tlp")
    assert label.inner_text() == "TLP:RED"
    style = label.evaluate(
        "e => { const s = getComputedStyle(e); return [s.color, s.backgroundColor]; }"
    )
    assert style == ["rgb(255, 43, 43)", "rgb(0, 0, 0)"]
    b.locator("#conversation li", has_text="Weather clearing").locator(
        ".tlp", has_text="TLP:GREEN"
    ).wait_for()
    screenshot(b, "line-tlp-labels")

    # The coordinator follows the line but is no recipient of the RED message.
    centre.locator("#conversation li", has_text="Weather clearing").wait_for()
    assert "Boarding team" not in centre.locator("#conversation").inner_text()
    assert centre.locator("#msg-1").count() == 0
    assert Message.objects.get(channel=line_ab, seq=1).tlp == "RED"
