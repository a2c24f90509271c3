"""Real HTTP servers, in a thread of the test process, that the paging code talks to.

- :class:`SmsProvider` speaks Twilio's REST API: ``POST /2010-04-01/Accounts/{sid}/
  Messages.json`` (form ``To``, ``From``, ``Body``) and ``…/Calls.json`` (``Twiml`` or
  ``Url``), HTTP basic auth ``AccountSid:AuthToken``, ``201`` with a JSON ``sid``; errors
  as Twilio sends them (``{"code", "message", "more_info", "status"}``). ``fail_next``
  makes it answer the next requests with given statuses (a 5xx outage, a 400).
  :func:`twilio_signature` signs a post from the provider to us (``X-Twilio-Signature``),
  written here from Twilio's documented algorithm, independently of the code under test.
- :class:`WebhookReceiver` is a desk's system: it verifies each post with the
  ``standardwebhooks`` library, answers with the statuses it is told (500, 500, 204 …)
  and keeps what arrived.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import phonenumbers
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support.redis import free_port


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    """base64(HMAC-SHA1(token, url + key1 + value1 + key2 + value2 …, keys sorted))."""
    data = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not true within {timeout} s")


class ThreadedServer:
    """A real HTTP server on a free local port, served by a thread of the test process;
    a subclass gives the request handler (``_handler_class``)."""

    def __init__(self):
        self.port = free_port()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload = server.handle(self.path, headers, body)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@dataclass
class Sent:
    resource: str  # "Messages" or "Calls"
    sid: str
    form: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def to(self) -> str:
        return self.form.get("To", "")

    @property
    def body(self) -> str:
        return self.form.get("Body", "") or self.form.get("Twiml", "")


class SmsProvider(ThreadedServer):
    ACCOUNT = "AC" + "0123456789abcdef" * 2
    TOKEN = "test-auth-token-0123456789abcdef"
    FROM = "+6620001111"

    def __init__(self):
        super().__init__()
        self.sent: list[Sent] = []
        self.requests = 0
        self._fail: list[int] = []

    def fail_next(self, *statuses: int) -> None:
        with self.lock:
            self._fail.extend(statuses)

    def messages(self, to: str | None = None) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if s.resource == "Messages" and to in (None, s.to)]

    def calls(self, to: str | None = None) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if s.resource == "Calls" and to in (None, s.to)]

    @staticmethod
    def _error(status: int, code: int, message: str):
        more = f"https://www.twilio.com/docs/errors/{code}"
        return status, {"code": code, "message": message, "more_info": more, "status": status}

    def handle(self, path: str, headers: dict, body: bytes):
        with self.lock:
            self.requests += 1
            failing = self._fail.pop(0) if self._fail else None
        match = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/(Messages|Calls)\.json", path)
        if match is None:
            return self._error(404, 20404, "The requested resource was not found")
        expected = "Basic " + base64.b64encode(f"{self.ACCOUNT}:{self.TOKEN}".encode()).decode()
        if match.group(1) != self.ACCOUNT or headers.get("authorization") != expected:
            return self._error(401, 20003, "Authenticate")
        if failing is not None:
            return self._error(failing, 20500, "Internal Server Error")
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        resource = match.group(2)
        for name in ("To", "From"):
            try:
                valid = phonenumbers.is_valid_number(phonenumbers.parse(form.get(name, ""), None))
            except phonenumbers.NumberParseException:
                valid = False
            if not valid:
                return self._error(400, 21211, f"The '{name}' number is not a valid phone number.")
        if resource == "Messages" and not form.get("Body"):
            return self._error(400, 21602, "Message body is required.")
        if resource == "Calls" and not (form.get("Twiml") or form.get("Url")):
            return self._error(400, 21205, "Url or Twiml parameter is required.")
        sid = ("SM" if resource == "Messages" else "CA") + uuid.uuid4().hex
        with self.lock:
            self.sent.append(Sent(resource, sid, form, headers))
        return 201, {
            "sid": sid,
            "account_sid": self.ACCOUNT,
            "to": form["To"],
            "from": form["From"],
            "body": form.get("Body"),
            "status": "queued",
            "uri": f"/2010-04-01/Accounts/{self.ACCOUNT}/{resource}/{sid}.json",
        }


@dataclass
class Post:
    headers: dict[str, str]
    body: bytes
    status: int
    verified: dict | None  # the parsed event, if the signature checked out
    error: str = ""


class WebhookReceiver(ThreadedServer):
    def __init__(self, secret: str = ""):
        super().__init__()
        self.secret = secret
        self.posts: list[Post] = []
        self._answers: list[int] = []

    def answer(self, *statuses: int) -> None:
        """Answer the next posts with these statuses (then 204)."""
        with self.lock:
            self._answers.extend(statuses)

    def handle(self, path: str, headers: dict, body: bytes):
        verified, error = None, ""
        try:
            verified = Webhook(self.secret).verify(body, headers)
        except (WebhookVerificationError, ValueError) as exc:
            error = str(exc)
        with self.lock:
            status = self._answers.pop(0) if self._answers else 204
            if verified is None:
                status = 401
            self.posts.append(Post(headers, body, status, verified, error))
        return status, None if status == 204 else {"status": status}

    def count(self) -> int:
        with self.lock:
            return len(self.posts)
