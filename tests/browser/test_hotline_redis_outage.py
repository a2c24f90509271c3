"""The console with Redis stopped: a hotline message is still sent and stored (over the
socket while it stays open, over REST when there is no socket), the line is polled while
the socket is down, and live delivery resumes once Redis and the socket are back.

Its own uvicorn on its own Redis (this test stops it), not the package's shared server.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from hotline.models import Message
from hotline.services.channels import set_up_bilateral_channel
from tests.browser.conftest import (
    OUTPUT,
    ROOT,
    Browsing,
    _stop,
    _wait_until,
    outside_browser_loop,
    screenshot,
    wait_socket_open,
)
from tests.support.redis import PrivateRedis, free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def outage_redis():
    server = PrivateRedis().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def outage_url(server_env, outage_redis):
    from urllib.request import urlopen

    env = {**server_env, "REDIS_URL": outage_redis.url, "CELERY_BROKER_URL": outage_redis.url}
    port = free_port()
    log = open(OUTPUT / "server-redis-outage.log", "wb")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--lifespan", "off"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def healthy():
        try:
            with urlopen(url + "/healthz", timeout=1) as response:  # nosec B310  # loopback
                return response.status == 200
        except OSError:
            return False

    try:
        _wait_until(healthy, timeout=30, what="uvicorn", proc=proc)
        yield url
    finally:
        _stop(proc)
        log.close()


@pytest.fixture
def visitors(transactional_db, browser, outage_url):
    browsing = Browsing(browser, outage_url)
    try:
        yield browsing
    finally:
        browsing.close()
    assert browsing.errors == [], "\n".join(browsing.errors)


@pytest.fixture
def line_ab(region):
    return outside_browser_loop(
        set_up_bilateral_channel,
        by=region.coordinator,
        desk_id=region.desk_a.pk,
        peer_desk_id=region.desk_b.pk,
    )


class SocketSwitch:
    """Routes a page's websocket to the server, or refuses it (closes it at once), as a
    dead link between the browser and the web process would."""

    def __init__(self, page):
        self.blocked = False
        self.routes = []
        page.route_web_socket("**/ws/v1/**", self._handle)

    def _handle(self, ws):
        if self.blocked:
            ws.close()
            return
        ws.connect_to_server()
        self.routes.append(ws)

    def cut(self):
        self.blocked = True
        for ws in self.routes:
            ws.close()
        self.routes = []


def compose(page, body: str):
    page.get_by_role("textbox", name="Message").fill(body)
    page.get_by_role("button", name="Send").click()


def stored(line, body: str) -> bool:
    return outside_browser_loop(
        lambda: Message.objects.filter(channel_id=line.pk, body=body).count() == 1
    )


def test_console_sends_with_redis_stopped_and_resumes_live(visitors, region, line_ab, outage_redis):
    a = visitors.new_page(region.operator_a)
    b = visitors.new_page(region.operator_b)
    switch = SocketSwitch(a)
    for page in (a, b):
        page.goto(f"/lines/{line_ab.pk}/")
        wait_socket_open(page)
        page.wait_for_selector("#conversation[data-subscribed]", state="attached")

    outage_redis.kill()
    # The socket stays open without Redis: the send commits and is confirmed over it,
    # and B (on the same web process) sees it at once.
    compose(a, "Sent while Redis is down")
    a.get_by_role("status").filter(has_text="Sent as #1").wait_for()
    assert stored(line_ab, "Sent while Redis is down")
    b.locator("#conversation li", has_text="Sent while Redis is down").wait_for()

    # No socket at all: the console sends over REST and polls the line.
    switch.cut()
    a.wait_for_selector("body[data-socket-state=closed]", state="attached")
    compose(a, "Sent over the web")
    a.get_by_role("status").filter(has_text="Sent as #2 over the web").wait_for()
    assert stored(line_ab, "Sent over the web")
    b.locator("#conversation li", has_text="Sent over the web").wait_for()
    compose(b, "B answers while A has no socket")
    b.get_by_role("status").filter(has_text="Sent as #3").wait_for()
    a.locator("#conversation li", has_text="B answers while A has no socket").wait_for()
    screenshot(a, "line-redis-down-polling")

    # Redis and the socket come back: live delivery resumes, nothing shown twice.
    outage_redis.start()
    switch.blocked = False
    wait_socket_open(a)
    a.wait_for_selector("#conversation[data-subscribed]", state="attached")
    compose(b, "Live again")
    a.locator("#conversation li", has_text="Live again").wait_for()
    seqs = a.eval_on_selector_all(
        "#conversation li[data-seq]", "els => els.map(e => Number(e.dataset.seq))"
    )
    assert seqs == [1, 2, 3, 4]
    screenshot(a, "line-redis-back")
