"""A TCP proxy a test can cut and restore: what a flaky network looks like to a browser.

``cut()`` drops every open connection and holds new ones without forwarding (the
client's connection attempt simply waits, as on a dead link); ``restore()`` forwards
again, held connections included.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.support.redis import free_port


class CuttableProxy:
    def __init__(self, upstream_port: int, *, host: str = "127.0.0.1"):
        self.host = host
        self.upstream_port = upstream_port
        self.port = free_port()
        self._live = threading.Event()
        self._live.set()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._server = socket.create_server((host, self.port))
        self._server.settimeout(0.2)
        self._stopping = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self) -> CuttableProxy:
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _accept_loop(self):
        while not self._stopping:
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket):
        self._track(client)
        # Held until the link is restored (or the proxy stops).
        while not self._live.wait(0.2):
            if self._stopping:
                self._close(client)
                return
        try:
            upstream = socket.create_connection((self.host, self.upstream_port), timeout=5)
        except OSError:
            self._close(client)
            return
        upstream.settimeout(None)
        self._track(upstream)
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._close(src)
            self._close(dst)

    def _track(self, sock):
        with self._lock:
            self._sockets.add(sock)

    def _close(self, sock):
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self) -> None:
        self._live.clear()
        with self._lock:
            open_now = list(self._sockets)
        for sock in open_now:
            self._close(sock)

    def restore(self) -> None:
        self._live.set()

    def stop(self) -> None:
        self._stopping = True
        self.cut()
        self._server.close()
        self._thread.join(timeout=5)
