"""A national alerting agency's web server, real HTTP in a thread of the test process.

It publishes an Atom 1.0 feed of CAP alerts in the shape agencies use (the WMO alert
hubs, national meteorological services): each ``<entry>`` has an ``id``, ``title``,
``updated``, ``author``, ``summary`` and a ``link rel="alternate"
type="application/cap+xml"`` to the CAP 1.2 document, which the server also serves
(``/feed.rss`` is the same as RSS 2.0). The feed answers conditional GETs (``ETag`` /
``Last-Modified``: 304 when unchanged) unless told not to. Other paths misbehave on
purpose: ``/slow.atom`` answers only after the test releases it, ``/junk.atom`` is an
HTML page, ``/garbage.atom`` bytes that claim to be Atom, ``/huge.atom`` is larger than
any limit (``/endless.atom`` too, without saying so in advance), anything else answers
500; ``extra`` sets the answer for a path. Every request is kept (path and conditional
headers).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from xml.sax.saxutils import escape

from tests.support.http_providers import ThreadedServer


@dataclass
class Published:
    name: str  # the document's file name under /alerts/
    xml: str
    title: str
    updated: str  # RFC 3339, as Atom wants it


@dataclass
class Seen:
    path: str
    if_none_match: str | None
    if_modified_since: str | None


def atom(base: str, alerts: list[Published], *, agency: str) -> str:
    entries = "".join(
        f"""
  <entry>
    <id>{base}/alerts/{a.name}.xml</id>
    <title>{escape(a.title)}</title>
    <updated>{a.updated}</updated>
    <published>{a.updated}</published>
    <author><name>{escape(agency)}</name></author>
    <summary>{escape(a.title)}</summary>
    <link rel="alternate" type="application/cap+xml" href="/alerts/{a.name}.xml"/>
  </entry>"""
        for a in reversed(alerts)  # newest first, as feeds list them
    )
    updated = alerts[-1].updated if alerts else "2026-11-24T00:00:00Z"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <id>{base}/feed.atom</id>
  <title>{escape(agency)}: CAP alerts</title>
  <updated>{updated}</updated>
  <author><name>{escape(agency)}</name></author>
  <link rel="self" href="{base}/feed.atom"/>{entries}
</feed>
"""


def rss(base: str, alerts: list[Published], *, agency: str) -> str:
    items = "".join(
        f"""
    <item>
      <title>{escape(a.title)}</title>
      <link>{base}/alerts/{a.name}.xml</link>
      <guid>{base}/alerts/{a.name}.xml</guid>
      <pubDate>Tue, 24 Nov 2026 01:30:00 GMT</pubDate>
    </item>"""
        for a in reversed(alerts)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{escape(agency)}</title><link>{base}/</link>
<description>CAP alerts</description>{items}
</channel></rss>
"""


class AgencyServer(ThreadedServer):
    def __init__(self, agency: str = "Thai Meteorological Department"):
        self.agency = agency
        self.alerts: list[Published] = []
        self.conditional = True  # answer 304 to a matching If-None-Match / If-Modified-Since
        self.seen: list[Seen] = []
        self.release_slow = threading.Event()
        self.extra: dict[str, tuple[int, str, bytes]] = {}  # path -> (status, type, body)
        super().__init__()

    def publish(self, name: str, xml: str, *, title: str, updated: str) -> None:
        with self.lock:
            self.alerts.append(Published(name, xml, title, updated))

    def requests_for(self, path: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.path == path]

    def stop(self) -> None:
        self.release_slow.set()
        super().stop()

    def _feed(self, kind: str) -> tuple[bytes, str, str]:
        with self.lock:
            alerts = list(self.alerts)
        text = (rss if kind == "rss" else atom)(self.url, alerts, agency=self.agency)
        body = text.encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        modified = formatdate(1_800_000_000 + len(alerts) * 60, usegmt=True)
        return body, etag, modified

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, content_type: str, body: bytes, **headers) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def do_GET(self):
                path = self.path.split("?")[0]
                with server.lock:
                    server.seen.append(
                        Seen(
                            path,
                            self.headers.get("If-None-Match"),
                            self.headers.get("If-Modified-Since"),
                        )
                    )
                if path in ("/feed.atom", "/feed.rss"):
                    body, etag, modified = server._feed("rss" if path.endswith("rss") else "atom")
                    unchanged = self.headers.get("If-None-Match") == etag or (
                        self.headers.get("If-Modified-Since") == modified
                        and not self.headers.get("If-None-Match")
                    )
                    if server.conditional and unchanged:
                        self._answer(304, "application/atom+xml", b"", ETag=etag)
                        return
                    headers = (
                        {"ETag": etag, "Last_Modified": modified} if server.conditional else {}
                    )
                    kind = "application/rss+xml" if path.endswith("rss") else "application/atom+xml"
                    self._answer(200, kind, body, **headers)
                    return
                if path in server.extra:
                    status, content_type, body = server.extra[path]
                    self._answer(status, content_type, body)
                    return
                if path.startswith("/alerts/"):
                    name = path.removeprefix("/alerts/").removesuffix(".xml")
                    with server.lock:
                        found = next((a for a in server.alerts if a.name == name), None)
                    if found is None:
                        self._answer(404, "text/plain", b"no such alert")
                    else:
                        self._answer(200, "application/cap+xml", found.xml.encode())
                    return
                if path == "/slow.atom":
                    server.release_slow.wait(30)  # until the test is done with it
                    self._answer(200, "application/atom+xml", b"<feed/>")
                    return
                if path == "/junk.atom":
                    page = b"<html><body><h1>Site under maintenance</h1></body></html>"
                    self._answer(200, "text/html", page)
                    return
                if path == "/garbage.atom":  # claims to be Atom
                    self._answer(200, "application/atom+xml", b"\x00\xff<<oops>> {not: xml}")
                    return
                if path == "/huge.atom":  # says how large it is
                    self._answer(200, "application/atom+xml", b"<feed>" + b" " * 3_000_000)
                    return
                if path == "/endless.atom":  # does not say; ends when the connection closes
                    self.send_response(200)
                    self.send_header("Content-Type", "application/atom+xml")
                    self.end_headers()
                    try:
                        for _ in range(300):
                            self.wfile.write(b" " * 10_000)
                    except OSError:
                        pass  # the client stopped reading: what the test wants
                    return
                self._answer(500, "text/plain", b"Internal Server Error")

        return Handler
