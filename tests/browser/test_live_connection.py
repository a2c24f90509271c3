"""A live connection you can trust: a silently dead link is seen within 10 s, the page
resumes from its last seq with nothing lost or shown twice, and a message sent while the
socket is down goes over REST once (same client message id)."""

import time

import pytest

from hotline.models import Message
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


@pytest.fixture
def proxy(live_url):
    proxy = CuttableProxy(int(live_url.rsplit(":", 1)[1])).start()
    yield proxy
    proxy.stop()


def open_line(page, line):
    page.goto(f"/lines/{line.pk}/")
    wait_socket_open(page)
    page.wait_for_selector("#conversation[data-subscribed]", state="attached")


def send(page, body: str):
    page.get_by_role("textbox", name="Message").fill(body)
    page.get_by_role("button", name="Send").click()


def seqs(page) -> list[int]:
    return page.eval_on_selector_all(
        "#conversation li[data-seq]", "els => els.map(e => Number(e.dataset.seq))"
    )


def network_faults_expected(people):
    """The errors Chromium logs for the faults these tests inject on purpose."""
    for text in ("ERR_EMPTY_RESPONSE", "WebSocket connection to", "ERR_CONNECTION"):
        people.allow_console_error(text)


def banner_within_10_s(page) -> float:
    started = time.monotonic()
    page.locator("#offline-banner").wait_for(state="visible", timeout=10_000)
    return time.monotonic() - started


def test_silent_loss_shows_the_banner_within_10_s_and_resumes_once(people, region, line_ab, proxy):
    a = people.new_page(region.operator_a)
    b = people.new_page(region.operator_b, base_url=proxy.url)
    open_line(a, line_ab)
    open_line(b, line_ab)
    send(a, "before the silence")
    b.locator("#conversation li", has_text="before the silence").wait_for()

    proxy.blackhole()  # the socket stays open; nothing passes either way
    took = banner_within_10_s(b)
    assert took < 10
    screenshot(b, "line-silent-offline")
    for n in (1, 2, 3):
        send(a, f"during the silence {n}")
        a.get_by_role("status").filter(has_text="Sent as").wait_for()
    # B writes while nothing gets through (REST neither): kept, sent once the link is back.
    send(b, "B wrote during the silence")
    b.get_by_role("status").filter(has_text="Offline: will send").wait_for(timeout=15_000)

    proxy.restore()
    b.locator("#offline-banner").wait_for(state="hidden", timeout=15_000)
    b.locator("#conversation li", has_text="during the silence 3").wait_for()
    a.locator("#conversation li", has_text="B wrote during the silence").wait_for()
    b.get_by_role("status").filter(has_text="Sent as #5").wait_for()
    b.locator("#conversation li", has_text="B wrote during the silence").wait_for()
    assert seqs(b) == [1, 2, 3, 4, 5]
    for n in (1, 2, 3):
        assert b.locator("#conversation li", has_text=f"during the silence {n}").count() == 1
    assert Message.objects.filter(channel=line_ab, body="B wrote during the silence").count() == 1
    people.close()  # pages before the proxy: their sockets go through it


def test_send_while_the_socket_is_down_goes_over_rest_once(people, region, line_ab, proxy):
    network_faults_expected(people)
    a = people.new_page(region.operator_a)
    b = people.new_page(region.operator_b, base_url=proxy.url)
    open_line(a, line_ab)
    open_line(b, line_ab)
    rest_posts = []
    b.on(
        "request",
        lambda r: rest_posts.append(r.url) if r.method == "POST" and "/api/v1/" in r.url else None,
    )

    # Websockets die silently; plain HTTP (the REST API) still gets through.
    proxy.blackhole(http=True)
    # Sent into the silent socket before anyone knows it is dead: not lost, sent over
    # REST once the page gives the socket up.
    send(b, "into the silent socket")
    banner_within_10_s(b)
    b.get_by_role("status").filter(has_text="Sent as #1 over the web").wait_for()
    # Sent while the banner shows: straight over REST.
    send(b, "while the banner shows")
    b.get_by_role("status").filter(has_text="Sent as #2 over the web").wait_for()
    assert len(rest_posts) == 2, rest_posts
    screenshot(b, "line-sent-over-rest")

    proxy.restore()
    b.locator("#offline-banner").wait_for(state="hidden", timeout=15_000)
    wait_socket_open(b)
    b.wait_for_selector("#conversation[data-subscribed]", state="attached")
    a.locator("#conversation li", has_text="while the banner shows").wait_for()
    assert seqs(b) == [1, 2]
    assert seqs(a) == [1, 2]
    for body in ("into the silent socket", "while the banner shows"):
        assert Message.objects.filter(channel=line_ab, body=body).count() == 1
    assert len(rest_posts) == 2
    people.close()
