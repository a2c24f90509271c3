"""Real Celery worker processes for tests where timing and delivery are the point.

Each worker talks to a private Redis (tests/support/redis.py) and to the test database,
runs in its own process group (so SIGKILL takes the pool children and the embedded beat
with it, like a crashed container), and logs to a file the test can read.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str, interval=0.05):
    """Poll ``predicate`` until it is truthy; fail after ``timeout`` seconds naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def database_url() -> str:
    """The URL of the database this process uses (the test database under pytest)."""
    s = connection.settings_dict
    auth = s["USER"] or "postgres"
    if s["PASSWORD"]:
        auth += f":{s['PASSWORD']}"
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextlib.contextmanager
def broker(url: str, transport_options: dict | None = None):
    """Point this process's Celery app (task sending) at ``url`` for the block (with
    ``transport_options``, e.g. a Sentinel's master name, if given)."""
    from config.celery import app

    def reset():
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    old, old_options = app.conf.broker_url, app.conf.broker_transport_options
    reset()
    app.conf.broker_url = url
    if transport_options is not None:
        app.conf.broker_transport_options = transport_options
    try:
        yield app
    finally:
        reset()
        app.conf.broker_url = old
        app.conf.broker_transport_options = old_options


class Worker:
    """``celery worker`` (with embedded beat unless ``beat=False``) as a subprocess."""

    def __init__(
        self,
        broker_url: str,
        *,
        beat: bool = True,
        concurrency: int = 2,
        extra_args: tuple[str, ...] = (),
        **env,
    ):
        self.broker_url = broker_url
        self.extra_args = tuple(extra_args)
        self.beat = beat
        self.concurrency = concurrency
        self.env = {k: str(v) for k, v in env.items()}
        self.dir = Path(tempfile.mkdtemp(prefix="test-worker-"))
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.dir / f"worker-{self.starts}.log"

    def log(self) -> str:
        return "".join(
            (self.dir / f"worker-{n}.log").read_text(errors="replace")
            for n in range(1, self.starts + 1)
            if (self.dir / f"worker-{n}.log").exists()
        )

    def start(self, timeout: float = 40) -> Worker:
        self.starts += 1
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.broker_url,
            "CELERY_BROKER_URL": self.broker_url,
            "DEADLINE_SWEEP_INTERVAL_SECONDS": "1",
            "DEADLINE_RESCUE_GRACE_SECONDS": "0.5",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        args = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--queues", "escalation,default",
            "--concurrency", str(self.concurrency),
            "--loglevel", "INFO",
            "--hostname", f"test{os.getpid()}-{self.starts}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        if self.beat:
            args += ["--beat", "--schedule", str(self.dir / "beat-schedule")]
        args += self.extra_args
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        log_path = self.log_path

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited early:\n{log_path.read_text()[-3000:]}")
            return " ready." in log_path.read_text(errors="replace")

        wait_for(ready, timeout=timeout, what="the celery worker to be ready")
        return self

    def ensure_running(self) -> bool:
        """What a supervisor (compose ``restart: unless-stopped``) does: restart it if it
        exited. Returns True if it had to."""
        if self.proc is not None and self.proc.poll() is not None:
            self.start()
            return True
        return False

    def kill(self) -> None:
        """SIGKILL the whole process group: nothing is acknowledged or flushed."""
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        # Pool children that outlived their parent.
        with contextlib.suppress(ProcessLookupError, TypeError):
            os.killpg(self.proc.pid, signal.SIGKILL)
