"""Acceptance scenarios 2-4 in a browser: live flash message with acknowledgement and
receipts, resume after a cut socket without loss or duplicates, and no access for a
desk that is not on the line."""

import pytest

from hotline.models import Message, Priority, Receipt
from hotline.services.channels import set_up_bilateral_channel
from tests.browser.conftest import outside_browser_loop, screenshot, wait_socket_open
from tests.support.proxy import CuttableProxy

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


def send(page, body: str, priority: str = "routine"):
    page.get_by_role("textbox", name="Message").fill(body)
    page.get_by_label("Priority").select_option(priority)
    page.get_by_role("button", name="Send").click()
    page.get_by_role("status").filter(has_text="Sent as").wait_for()


def test_flash_message_live_acknowledged_and_receipt_seen(people, region, line_ab):
    a = people.new_page(region.operator_a)
    b = people.new_page(region.operator_b)
    open_line(a, line_ab)
    open_line(b, line_ab)

    send(a, "Flash: vessel collision near the maritime boundary", Priority.FLASH)
    incoming = b.locator("#conversation li", has_text="vessel collision")
    incoming.wait_for()
    assert "Flash" in incoming.inner_text()
    # B's console marked it read; A sees the receipt live.
    a.locator("#conversation li", has_text="vessel collision").get_by_text(
        "BBB-DESK: read"
    ).wait_for()

    # Keyboard only: focus the button and press Enter.
    incoming.get_by_role("button", name="Acknowledge flash message #1").focus()
    b.keyboard.press("Enter")
    incoming.get_by_text("Acknowledged", exact=True).wait_for()
    a.locator("#conversation li", has_text="vessel collision").get_by_text(
        "BBB-DESK: acknowledged"
    ).wait_for()
    receipt = Receipt.objects.get(message__channel=line_ab, desk=region.desk_b)
    assert receipt.acknowledged_by == region.operator_b and receipt.read_at is not None
    screenshot(a, "line-sender-after-ack")
    screenshot(b, "line-receiver-after-ack")

    # A double submit (or a retry) reuses the composed message's client id: stored once.
    a.get_by_role("textbox", name="Message").fill("Sent twice by an impatient operator")
    a.evaluate(
        "() => { const f = document.getElementById('compose'); f.requestSubmit(); "
        "f.requestSubmit(); }"
    )
    b.locator("#conversation li", has_text="impatient operator").wait_for()
    a.get_by_role("status").filter(has_text="Sent as").wait_for()
    assert Message.objects.filter(channel=line_ab, body__contains="impatient").count() == 1
    assert a.locator("#conversation li", has_text="impatient operator").count() == 1


def test_cut_socket_resumes_from_last_seq_once(people, region, line_ab, live_url):
    upstream_port = int(live_url.rsplit(":", 1)[1])
    proxy = CuttableProxy(upstream_port).start()
    try:
        a = people.new_page(region.operator_a)
        b = people.new_page(region.operator_b, base_url=proxy.url)
        open_line(a, line_ab)
        open_line(b, line_ab)
        send(a, "before the cut")
        b.locator("#conversation li", has_text="before the cut").wait_for()

        proxy.cut()
        b.locator("#offline-banner").wait_for(state="visible")
        screenshot(b, "line-offline")
        for n in (1, 2, 3):
            send(a, f"while B was cut off {n}")
        # B writes while offline: kept in the outbox, sent once the line is back.
        b.get_by_role("textbox", name="Message").fill("B typed this while offline")
        b.get_by_role("button", name="Send").click()
        b.get_by_role("status").filter(has_text="Offline: will send").wait_for()
        proxy.restore()

        b.locator("#offline-banner").wait_for(state="hidden")
        b.locator("#conversation li", has_text="while B was cut off 3").wait_for()
        for n in (1, 2, 3):
            assert b.locator("#conversation li", has_text=f"while B was cut off {n}").count() == 1
        a.locator("#conversation li", has_text="B typed this while offline").wait_for()
        b.get_by_role("status").filter(has_text="Sent as #5").wait_for()
        # "Sent as" answers the send; the message itself reaches B's list with the line's
        # live traffic, a moment later.
        b.locator("#conversation li", has_text="B typed this while offline").wait_for()
        seqs = b.eval_on_selector_all(
            "#conversation li[data-seq]", "els => els.map(e => Number(e.dataset.seq))"
        )
        assert seqs == [1, 2, 3, 4, 5]
        assert Message.objects.filter(channel=line_ab, body__contains="offline").count() == 1
        screenshot(b, "line-resumed")
    finally:
        # Pages first: a page whose socket the proxy's end closes would poll (over REST)
        # an address that no longer answers.
        people.close()
        proxy.stop()


def test_desk_not_on_the_line_gets_a_404_page(people, region, line_ab):
    people.allow_console_error("status of 404")
    c = people.new_page(region.operator_c)
    assert c.goto(f"/lines/{line_ab.pk}/").status == 404
    assert c.get_by_role("heading", name="Not found (404)").is_visible()
    c.goto("/lines/")
    assert c.locator("#lines-table").get_by_text(line_ab.name).count() == 0
    screenshot(c, "line-404-for-state-c")

    b = people.new_page(region.operator_b)
    b.goto("/lines/")
    b.locator("#lines-table").get_by_text(line_ab.name).wait_for()
    wait_socket_open(b)
    a = people.new_page(region.operator_a)
    open_line(a, line_ab)
    send(a, "unread for B")
    b.locator("#lines-table .unread", has_text="1").wait_for()
    screenshot(b, "lines-list")
    b.goto("/")
    wait_socket_open(b)
    b.locator("#panel-lines", has_text="1 unread").wait_for()
    send(a, "second unread for B")
    b.locator("#panel-lines", has_text="2 unread").wait_for()
