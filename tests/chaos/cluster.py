"""The chaos suite's deployment, as real processes on loopback.

- a private PostgreSQL (``pg_ctl``, tests/support/postgres.py) holding a copy of the test
  database's schema;
- a private Redis (tests/support/redis.py), never the shared one;
- a TCP proxy between the web processes and that Redis (tests/support/proxy.py), so the
  web can be partitioned from Redis while the workers still reach it;
- two web processes (uvicorn, ``config.asgi``), two Celery workers and one beat.

``heal()`` is a supervisor's job (compose's ``restart: unless-stopped``): whatever is
dead is started again, and the proxy forwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.asgi import AsgiServer
from tests.support.celery_worker import Worker, wait_for
from tests.support.postgres import PrivatePostgres
from tests.support.proxy import CuttableProxy
from tests.support.redis import PrivateRedis

ROOT = Path(__file__).resolve().parents[2]

#: What the workers and beat run with: the sweep every second, the engine's test timings.
DEADLINE_ENV = {
    "DEADLINE_SWEEP_INTERVAL_SECONDS": "1",
    "DEADLINE_RESCUE_GRACE_SECONDS": "0.5",
}


class Beat:
    """``celery beat`` as a subprocess in its own process group."""

    def __init__(self, broker_url: str, env: dict):
        self.broker_url = broker_url
        self.env = env
        self.dir = Path(tempfile.mkdtemp(prefix="test-beat-"))
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 30) -> Beat:
        self.starts += 1
        log_path = self.dir / f"beat-{self.starts}.log"
        env = {
            **os.environ,
            "REDIS_URL": self.broker_url,
            "CELERY_BROKER_URL": self.broker_url,
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        args = [
            sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
            "--schedule", str(self.dir / "beat-schedule"),
        ]  # fmt: skip
        with open(log_path, "wb") as out:
            self.proc = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"beat exited early:\n{log_path.read_text()[-3000:]}")
            return "Scheduler: Sending due task" in log_path.read_text(errors="replace")

        wait_for(ready, timeout=timeout, what="celery beat to send its first task")
        return self

    def ensure_running(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            self.start()
            return True
        return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def copy_schema(source_url_parts: dict, target_url: str) -> None:
    """The test database's schema (and Django's content types, permissions and migration
    records) into the private cluster: a migrate from scratch takes ~50 s here."""
    env = {**os.environ}
    if source_url_parts.get("PASSWORD"):
        env["PGPASSWORD"] = source_url_parts["PASSWORD"]
    source = [
        "-h", source_url_parts.get("HOST") or "127.0.0.1",
        "-p", str(source_url_parts.get("PORT") or 5432),
        "-U", source_url_parts.get("USER") or "postgres",
        "-d", source_url_parts["NAME"],
        "--no-owner", "--no-privileges",
    ]  # fmt: skip
    schema = subprocess.run(
        ["pg_dump", "--schema-only", *source], env=env, check=True, capture_output=True
    ).stdout
    data = subprocess.run(
        ["pg_dump", "--data-only", "-t", "django_content_type", "-t", "auth_permission",
         "-t", "django_migrations", *source],
        env=env, check=True, capture_output=True,
    ).stdout  # fmt: skip
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", target_url],
        input=schema + data, check=True, capture_output=True,
    )  # fmt: skip


class Cluster:
    def __init__(self, faults: list[str]):
        self.faults = faults
        self.pg = PrivatePostgres()
        self.redis = PrivateRedis()
        self.proxy: CuttableProxy | None = None
        self.webs: list[AsgiServer] = []
        self.workers: list[Worker] = []
        self.beat: Beat | None = None
        self.seed: dict = {}
        self.db_url = ""

    @property
    def web_redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.proxy.port}/0"

    def start(self, source_db: dict) -> Cluster:
        self.pg.init().start()
        self.db_url = self.pg.create_database("chaos")
        copy_schema(source_db, self.db_url)
        self.seed = self._seed()
        self.redis.start()
        self.proxy = CuttableProxy(self.redis.port).start()
        web_env = {"MFA_REQUIRED": "false", "LOG_LEVEL": "WARNING", **DEADLINE_ENV}
        self.webs = [
            AsgiServer(database_url=self.db_url, redis_url=self.web_redis_url, env=web_env)
            for _ in range(2)
        ]
        for web in self.webs:
            web.start()
        worker_env = {"DATABASE_URL": self.db_url, "MFA_REQUIRED": "false", **DEADLINE_ENV}
        self.workers = [
            Worker(
                self.redis.url,
                beat=False,
                extra_args=("--hostname", f"chaos{n}-{os.getpid()}@%h"),
                **worker_env,
            )
            for n in (1, 2)
        ]
        self.beat = Beat(self.redis.url, worker_env)
        for web in self.webs:
            web.wait_ready()
        for worker in self.workers:
            worker.start()
        self.beat.start()
        return self

    def _seed(self) -> dict:
        out = subprocess.run(
            [sys.executable, "-m", "tests.chaos.seed", *self.faults],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": self.db_url, "DEBUG": "true"},
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if out.returncode:
            raise RuntimeError(f"seeding failed:\n{out.stderr[-4000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    def heal(self) -> list[str]:
        """Start again whatever is down; returns what had to be."""
        healed = []
        self.proxy.restore()
        if self.redis.proc.poll() is not None:
            self.redis.start()
            healed.append("redis")
        if not (self.pg.data / "postmaster.pid").exists():
            self.pg.start()
            healed.append("postgres")
        for n, web in enumerate(self.webs, 1):
            if web.proc.poll() is not None:
                web.start()
                web.wait_ready()
                healed.append(f"web{n}")
        for n, worker in enumerate(self.workers, 1):
            if worker.ensure_running():
                healed.append(f"worker{n}")
        if self.beat.ensure_running():
            healed.append("beat")
        return healed

    def logs(self) -> str:
        parts = [f"--- web{n} ---\n{web.output()[-2500:]}" for n, web in enumerate(self.webs, 1)]
        parts += [f"--- worker{n} ---\n{w.log()[-1500:]}" for n, w in enumerate(self.workers, 1)]
        return "\n".join(parts)

    def keep_logs(self, where: Path) -> None:
        """Copy every process's log under ``where`` (the servers delete theirs on stop)."""
        where.mkdir(parents=True, exist_ok=True)
        for n, web in enumerate(self.webs, 1):
            with contextlib.suppress(OSError):
                shutil.copy(web.log.name, where / f"web{n}.log")
        for n, worker in enumerate(self.workers, 1):
            (where / f"worker{n}.log").write_text(worker.log())
        if self.beat:
            for log in self.beat.dir.glob("beat-*.log"):
                shutil.copy(log, where / log.name)
        with contextlib.suppress(OSError):
            shutil.copy(self.pg.logfile, where / "postgres.log")

    def stop(self) -> None:
        for web in self.webs:
            web.stop()
        for worker in self.workers:
            worker.stop()
        if self.beat:
            self.beat.stop()
        if self.proxy:
            self.proxy.stop()
        self.redis.stop()
        self.pg.destroy()
