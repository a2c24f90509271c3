"""The console in Thai and Vietnamese in a browser: the switch, the page, the words
console.js and line.js write (live-added items too) and times in the desk's zone."""

import re

import pytest

from hotline.services.channels import set_up_bilateral_channel
from paging.models import PagingPreference
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


def test_switch_to_thai_then_a_live_message_is_in_thai_with_bangkok_time(people, region, line_ab):
    a = people.new_page(region.operator_a)  # AAA-DESK, Asia/Bangkok
    b = people.new_page(region.operator_b)
    a.goto("/")
    assert a.locator("html").get_attribute("lang") == "en"
    a.get_by_label("Language").select_option("th")  # submits itself (data-autosubmit)
    a.wait_for_function("document.documentElement.lang === 'th'")
    a.get_by_role("heading", name=re.compile("แดชบอร์ด")).wait_for()
    # console.js's own words: the alerts button.
    assert a.locator("[data-alerts-toggle]").inner_text() == "การเตือน: เปิด"
    # The header clock: the desk's zone first, UTC beside it.
    a.wait_for_function(
        "/Asia\\/Bangkok · \\d\\d:\\d\\d UTC/"
        ".test(document.querySelector('[data-clock]').textContent)"
    )
    assert (
        outside_browser_loop(lambda: PagingPreference.objects.get(user=region.operator_a).language)
        == "th"
    )
    screenshot(a, "dashboard-th")

    a.goto(f"/lines/{line_ab.pk}/")
    wait_socket_open(a)
    a.wait_for_selector("#conversation[data-subscribed]", state="attached")
    b.goto(f"/lines/{line_ab.pk}/")
    wait_socket_open(b)
    b.wait_for_selector("#conversation[data-subscribed]", state="attached")
    b.get_by_role("textbox", name="Message").fill("Flash from B")
    b.get_by_label("Priority").select_option("flash")
    b.get_by_role("button", name="Send").click()
    b.get_by_role("status").filter(has_text="Sent as").wait_for()

    # Added live by line.js on A's Thai page: Thai words, Bangkok time with UTC beside.
    item = a.locator("#conversation li", has_text="Flash from B")
    item.wait_for()
    item.get_by_role("button", name=re.compile("รับทราบข้อความด่วนที่สุด #1")).wait_for()
    assert "ด่วนที่สุด" in item.locator(".badge").first.inner_text()
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \(Asia/Bangkok\) · [\d: -]+UTC", item.inner_text())
    # A's own message: the status line in Thai.
    a.get_by_role("textbox", name="ข้อความ").fill("ตอบกลับจาก A")
    a.get_by_role("button", name="ส่ง", exact=True).click()
    a.get_by_role("status").filter(has_text="ส่งแล้วเป็น #2").wait_for()
    screenshot(a, "line-th")


def test_vietnamese_login_page_from_the_browser_language(people, browser, live_url):
    context = browser.new_context(base_url=live_url, locale="vi-VN")
    people.contexts.append(context)
    page = context.new_page()
    page.goto("/login/")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.get_by_role("heading", name="Đăng nhập").wait_for()
    page.get_by_label("Tên đăng nhập").wait_for()
