"""A TCP proxy a test can cut and restore: what a flaky network looks like to a browser.

``cut()`` drops every open connection and holds new ones without forwarding (the
client's connection attempt simply waits, as on a dead link); ``restore()`` forwards
again, held connections included.

``blackhole(http=...)`` is a silently dead link: open websockets stay open but nothing
passes either way (no close, no error: what a NAT or a firewall that forgot the
connection does); new websocket handshakes are held; plain HTTP connections are closed
and new ones held too, or (``http=True``) forwarded, as on a network that lets the REST
API through but not websockets. ``restore()`` ends it.
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
        self._silent = threading.Event()  # blackhole: websockets open, nothing passes
        self._http_open = False
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._pairs: list[tuple[socket.socket, socket.socket, bool]] = []
        self._silenced: list[tuple[socket.socket, socket.socket, bool]] = []
        self._silenced_socks: set[socket.socket] = set()
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

    def _held(self, is_websocket: bool) -> bool:
        if not self._live.is_set():
            return True
        return self._silent.is_set() and (is_websocket or not self._http_open)

    def _serve(self, client: socket.socket):
        self._track(client)
        is_websocket = self._is_websocket(client)
        if is_websocket is None:
            self._close(client)
            return
        # Held until the link is restored (or the proxy stops).
        while self._held(is_websocket):
            if self._stopping:
                self._close(client)
                return
            threading.Event().wait(0.1)
        try:
            upstream = socket.create_connection((self.host, self.upstream_port), timeout=5)
        except OSError:
            self._close(client)
            return
        upstream.settimeout(None)
        self._track(upstream)
        with self._lock:
            self._pairs.append((client, upstream, is_websocket))
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _is_websocket(client: socket.socket) -> bool | None:
        """Whether the connection's first request asks for a websocket (None: it closed)."""
        client.settimeout(30)
        try:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = client.recv(65536, socket.MSG_PEEK)
                if not chunk:
                    return None
                if chunk == head:  # nothing new yet: wait for more of the request head
                    threading.Event().wait(0.01)
                head = chunk
        except OSError:
            return None
        finally:
            with contextlib.suppress(OSError):
                client.settimeout(None)
        return b"upgrade: websocket" in head.lower()

    def _pipe(self, src: socket.socket, dst: socket.socket):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if src in self._silenced_socks:
                    continue  # swallowed: the other end never hears of it
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
            self._pairs = [p for p in self._pairs if sock not in p[:2]]
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self) -> None:
        self._live.clear()
        with self._lock:
            open_now = list(self._sockets)
        for sock in open_now:
            self._close(sock)

    def blackhole(self, *, http: bool = False) -> None:
        """Silence every open websocket (left open); close the other connections unless
        ``http`` lets plain HTTP through."""
        self._http_open = http
        with self._lock:
            self._silenced = [p for p in self._pairs if p[2]]
            self._silenced_socks = {sock for p in self._silenced for sock in p[:2]}
            plain = [] if http else [p for p in self._pairs if not p[2]]
        self._silent.set()
        for client, upstream, _ in plain:
            self._close(client)
            self._close(upstream)

    def restore(self) -> None:
        # A link that dropped connections silently does not bring them back: what was
        # silenced is closed (as a NAT that forgot it answers with a reset).
        with self._lock:
            silenced, self._silenced = self._silenced, []
        for client, upstream, _ in silenced:
            self._close(client)
            self._close(upstream)
        self._silenced_socks = set()
        self._silent.clear()
        self._live.set()

    def stop(self) -> None:
        self._stopping = True
        self.cut()
        self._server.close()
        self._thread.join(timeout=5)
