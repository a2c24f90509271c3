"""Real ASGI server processes (uvicorn) on loopback, for end-to-end tests and the bench."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.support.redis import free_port

ROOT = Path(__file__).resolve().parents[2]


def database_url(db_settings: dict) -> str:
    """A DATABASE_URL for another process, from Django's settings of this one."""
    user = db_settings.get("USER") or "postgres"
    password = db_settings.get("PASSWORD")
    auth = f"{user}:{password}" if password else user
    host = db_settings.get("HOST") or "127.0.0.1"
    port = db_settings.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db_settings['NAME']}"


class AsgiServer:
    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        env: dict | None = None,
        app: str = "config.asgi:application",
    ):
        self.app = app
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DEBUG": "true",
            "LOG_LEVEL": "WARNING",
            # As deployed: a web process borrows connections from its pool.
            "DATABASE_POOL": "true",
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None
        # Lives as long as the server: it is where a failed start is explained.
        self.log = tempfile.NamedTemporaryFile(prefix="uvicorn-", suffix=".log", delete=False)  # noqa: SIM115

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/v1/"

    def start(self, timeout: float = 30.0) -> AsgiServer:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", self.app, "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-access-log",
             # As deployed (Procfile, Dockerfile): the hotline's frame read limit.
             "--ws-max-size", "262144"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        return self

    def wait_ready(self, timeout: float = 30.0) -> AsgiServer:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn did not start:\n{self.output()}") from None
                time.sleep(0.1)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL: a crash, nothing closed cleanly."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        Path(self.log.name).unlink(missing_ok=True)
