"""Browser tests: Debian's Chromium (through Playwright) against a real ASGI server.

One private Redis, one uvicorn process and (when a test asks) one Celery worker serve all
the browser tests, against pytest-django's test database; tests use
``django_db(transaction=True)`` so the rows they create are committed and visible to
those processes. One headless Chromium for the package (package scope, not session:
Playwright's sync API keeps an event loop running on this thread, which the async tests
of other packages must not find there); each test opens a browser
context per person (logged in through a session cookie, or through the login form).

Screenshots go to ``test-output/screenshots/``. Every page's console errors and uncaught
exceptions are collected and asserted empty when the test ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest
from django.conf import settings

from tests.support.redis import PrivateRedis, free_port

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
SHOTS = OUTPUT / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORT = {"width": 1366, "height": 768}
TIMEOUT_MS = 10_000

pytestmark = pytest.mark.slow


def _db_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] or "postgres"
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _wait_until(predicate, *, timeout: float, what: str, proc=None):
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: process exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready after {timeout} s")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen | None):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="package")
def browser_redis():
    redis = PrivateRedis().start()
    yield redis
    redis.stop()


@pytest.fixture(scope="package")
def server_env(django_db_setup, browser_redis) -> dict:
    """Environment of the processes under test: the test database, the private Redis."""
    OUTPUT.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_db_url(),
        REDIS_URL=browser_redis.url,
        CELERY_BROKER_URL=browser_redis.url,
        DEBUG="true",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        # Two-step login is tested on its own (tests/security/test_mfa.py).
        MFA_REQUIRED="false",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@pytest.fixture(scope="package")
def live_url(server_env) -> str:
    """A real uvicorn (ASGI: console, API, websockets) on a free port; as deployed, it
    borrows its database connections from a pool (the worker keeps its own)."""
    port = free_port()
    log = open(OUTPUT / "server.log", "wb")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--lifespan", "off"],
        cwd=ROOT, env={**server_env, "DATABASE_POOL": "true"}, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def healthy():
        try:
            with urlopen(url + "/healthz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        _wait_until(healthy, timeout=30, what="uvicorn", proc=proc)
        yield url
    finally:
        _stop(proc)
        log.close()


@pytest.fixture(scope="package")
def celery_worker(server_env):
    """A real Celery worker on the private Redis (every queue the settings route to)."""
    queues = sorted(
        {"default", settings.CELERY_TASK_DEFAULT_QUEUE}
        | {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    )
    log_path = OUTPUT / "worker.log"
    log = open(log_path, "wb")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--queues", ",".join(queues), "--loglevel", "INFO", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=server_env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_until(
            lambda: b"ready." in log_path.read_bytes(), timeout=60, what="celery", proc=proc
        )
        yield proc
    finally:
        _stop(proc)
        log.close()


@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is not on PATH (make test installs it with apt)"
    # Playwright's sync API keeps an event loop in another greenlet, which Django's
    # async-safety check mistakes for running inside one; tests only (never the server).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Browsing:
    """The people of one test, each in a browser context of their own."""

    def __init__(self, browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.contexts = []
        self.errors: list[str] = []
        self.allowed: list[str] = []

    def allow_console_error(self, fragment: str) -> None:
        """An error the test provokes on purpose (e.g. the 404 of a forbidden page)."""
        self.allowed.append(fragment)

    def _watch(self, page, who: str):
        def on_console(message):
            if message.type == "error" and not any(a in message.text for a in self.allowed):
                self.errors.append(f"{who}: console error: {message.text} ({page.url})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"{who}: uncaught: {exc}"))

    def new_page(self, user=None, *, base_url: str | None = None):
        """A page for ``user`` (signed in through a session cookie), or anonymous."""
        base = base_url or self.base_url
        context = self.browser.new_context(viewport=VIEWPORT, base_url=base)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        if user is not None:
            from django.test import Client

            client = Client()
            client.force_login(user)
            context.add_cookies(
                [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
            )
        page = context.new_page()
        self._watch(page, getattr(user, "username", "anonymous"))
        return page

    def close(self):
        for context in self.contexts:
            context.close()
        self.contexts = []
        _wait_for_disconnects()


def _wait_for_disconnects(timeout: float = 10.0) -> None:
    """Let the server finish what this test's pages started (closing websockets writes
    presence; a live region may be mid-request) before pytest-django truncates the
    tables: a TRUNCATE waiting on a row lock that waits on it is a deadlock."""
    from django.db import connection

    from hotline.models import PresenceSession

    def busy() -> bool:
        if PresenceSession.objects.exists():
            return True
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
            )
            return cursor.fetchone()[0] > 0

    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        quiet = 0 if busy() else quiet + 1
        time.sleep(0.05)


@pytest.fixture
def people(transactional_db, browser, live_url):
    """Opens pages per person; at the end asserts no console error happened."""
    browsing = Browsing(browser, live_url)
    try:
        yield browsing
    finally:
        browsing.close()
    assert browsing.errors == [], "\n".join(browsing.errors)


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def outside_browser_loop(func, /, *args, **kwargs):
    """Run a service from the test in a thread of its own.

    Playwright's sync API keeps an event loop on the test's thread, where asgiref's
    ``async_to_sync`` (used to publish events after commit) refuses to run.
    """
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def run():
        try:
            return func(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


def wait_socket_open(page):
    page.wait_for_selector("body[data-socket-state=open]", state="attached")
