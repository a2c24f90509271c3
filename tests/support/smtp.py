"""A real SMTP server (aiosmtpd) in a thread of the test process, with an inbox.

Workers in other processes reach it over TCP like any mail server. ``hold`` makes
the server sit on the next message after DATA (before answering) until released, so a
test can kill the sender mid-send; a held message is then refused (451), as a server
does when the client went away before it accepted. ``hold_accepted`` stores the next
message first and then sits on the "250": the window no SMTP client can close.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import threading
from dataclasses import dataclass

from aiosmtpd.controller import Controller

from tests.support.redis import free_port

logging.getLogger("mail.log").setLevel(logging.WARNING)  # one line per SMTP command


@dataclass
class Received:
    to: list[str]
    subject: str
    message_id: str
    body: str


class Inbox:
    def __init__(self):
        self._lock = threading.Lock()
        self.messages: list[Received] = []
        self.refused: set[str] = set()  # addresses answered 550
        self.hold = threading.Event()  # set: hold the next message, then refuse it
        self.hold_accepted = threading.Event()  # set: store the next one, then hold
        self.holding = threading.Event()  # set while a message is held
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hold.is_set():
            self.hold.clear()
            self.holding.set()
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, self.release.wait, 60)
            self.holding.clear()
            return "451 4.3.0 The sender went away; not accepted"
        accept_then_hold = self.hold_accepted.is_set()
        self.hold_accepted.clear()
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        received = Received(
            to=list(envelope.rcpt_tos),
            subject=str(parsed["Subject"]).strip(),
            message_id=str(parsed["Message-ID"]).strip(),
            body=parsed.get_body(preferencelist=("plain",)).get_content(),
        )
        with self._lock:
            self.messages.append(received)
        if accept_then_hold:  # stored, but the sender has not heard "250" yet
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
            self.holding.clear()
        return "250 2.0.0 Accepted"

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if address in m.to]

    def count(self) -> int:
        with self._lock:
            return len(self.messages)


class SMTPServer:
    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.inbox.release.set()
        self.controller.stop()
