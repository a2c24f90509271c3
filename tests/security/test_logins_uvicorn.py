"""The real web process, started as the Procfile and the Dockerfile start it: uvicorn
rewrites the client's address from X-Forwarded-For only for a peer in TRUSTED_PROXIES, and
Django counts failures by the same address, so forged headers buy no extra guesses."""

import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import make_person
from tests.support.asgi import database_url
from tests.support.redis import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 5


@pytest.fixture(autouse=True)
def _hasher_the_server_knows(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def procfile_web() -> str:
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    return line.removeprefix("web:").strip()


def dockerfile_web() -> str:
    cmd = next(x for x in (ROOT / "Dockerfile").read_text().splitlines() if x.startswith("CMD"))
    argv = json.loads(cmd.removeprefix("CMD"))
    assert argv[:2] == ["sh", "-c"], argv
    return (
        argv[2]
        .removeprefix("exec ")
        .replace("--host 0.0.0.0", "--host $APP_HOST")
        .replace("--port 8000", "--port $APP_PORT")
    )


class Web:
    """The web command run by a shell, as honcho and docker run it."""

    def __init__(self, command: str, trusted_proxies: str):
        self.port = free_port()
        bin_dir = str(Path(sys.executable).parent)
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "APP_HOST": "127.0.0.1",
            "APP_PORT": str(self.port),
            "TRUSTED_PROXIES": trusted_proxies,
            "DATABASE_URL": database_url(settings.DATABASES["default"]),
            "DEBUG": "true",
            "LOG_LEVEL": "WARNING",
            "LOGIN_FAILURE_LIMIT": str(LIMIT),
            "MFA_REQUIRED": "false",
        }
        env.pop("FORWARDED_ALLOW_IPS", None)
        self.proc = subprocess.Popen(
            ["sh", "-c", f"exec {command} --log-level warning --no-access-log"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"web did not start: {self.proc.stderr.read()!r}") from None
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, username: str, password: str, forwarded: str | None = None) -> int:
        """The answer's status (a lockout's body is checked here: the API's error shape)."""
        request = urllib.request.Request(
            f"{self.url}/api/v1/auth/token/",
            data=json.dumps({"username": username, "password": password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        if forwarded is not None:
            request.add_header("X-Forwarded-For", forwarded)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            if exc.code == 429:
                assert json.loads(exc.read())["code"] == "locked_out"
            return exc.code

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def wrong_before_locked(web: Web, username: str, forwarded) -> int:
    for n in range(1, 50):
        status = web.token(username, "guess", forwarded(n))
        if status == 429:
            return n - 1
        assert status == 401, status
    raise AssertionError("never locked out")


def booked_addresses() -> set[str]:
    from axes.models import AccessAttempt

    return set(AccessAttempt.objects.values_list("ip_address", flat=True))


def reset() -> None:
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()


@pytest.mark.parametrize("command", [procfile_web, dockerfile_web], ids=["Procfile", "Dockerfile"])
def test_forged_forwarded_for_buys_no_guesses(command):
    make_person(None, username="victim")
    web = Web(command(), trusted_proxies="")
    try:
        assert web.token("victim", "pw-for-tests") == 200
        figures = {
            "no X-Forwarded-For": wrong_before_locked(web, "victim", lambda n: None),
        }
        reset()
        figures["one forged X-Forwarded-For"] = wrong_before_locked(
            web, "victim", lambda n: "203.0.113.9"
        )
        reset()
        figures["a new forged X-Forwarded-For each try"] = wrong_before_locked(
            web, "victim", lambda n: f"203.0.113.{n}, 198.51.100.{n}"
        )
        assert booked_addresses() == {"127.0.0.1"}
        # The right password, from a fresh forged address, is still refused.
        assert web.token("victim", "pw-for-tests", "192.0.2.200") == 429
    finally:
        web.stop()
    print(f"\n{command.__name__}: wrong answers before the lock: {figures}")
    assert set(figures.values()) == {LIMIT - 1}


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted():
    make_person(None, username="colleague")
    web = Web(procfile_web(), trusted_proxies="127.0.0.1")
    try:
        # Through the proxy, one client guessing on many accounts locks itself out …
        locked_after = wrong_before_locked(web, "x", lambda n: "203.0.113.5")
        assert locked_after == LIMIT - 1
        assert booked_addresses() == {"203.0.113.5"}
        # … and a colleague behind the same proxy still gets in.
        assert web.token("colleague", "pw-for-tests", "203.0.113.6") == 200
    finally:
        web.stop()


def test_the_launchers_take_trusted_proxies_from_the_environment():
    for command in (procfile_web(), dockerfile_web()):
        args = shlex.split(command.replace("${TRUSTED_PROXIES:-}", "TP"))
        assert args[args.index("--forwarded-allow-ips") + 1] == "TP", command
    compose = (ROOT / "docker-compose.yml").read_text()
    assert re.search(r"^\s+TRUSTED_PROXIES: \$\{TRUSTED_PROXIES:-\}$", compose, re.M)
