"""Paging with real processes: a Celery worker (with beat) on a private Redis sends to a
real SMTP server (aiosmtpd) in this process. Exactly-once is counted in the inbox.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
from django.test import Client

from crisis.models import Crisis, EscalationState
from paging.models import DeliveryAttempt, NotificationRule
from tests.crisis.factories import make_crisis, make_escalation_protocol
from tests.paging.conftest import verified_email
from tests.support.celery_worker import Worker, broker, wait_for
from tests.support.smtp import SMTPServer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PEOPLE = ("op-a", "sup-a", "op-b", "sup-b")
ADDRESSES = sorted(f"{name}@example.org" for name in PEOPLE)


@pytest.fixture
def smtp_server():
    server = SMTPServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def worker(private_redis, smtp_server):
    started: list[Worker] = []

    def make(**options) -> Worker:
        w = Worker(
            private_redis.url,
            EMAIL_URL=smtp_server.url,
            EMAIL_TIMEOUT=2,
            PAGING_SEND_TIMEOUT_SECONDS=6,
            **options,
        )
        started.append(w)
        return w.start()

    try:
        yield make
    finally:
        for w in started:
            w.stop()


def prepare(region, *, again_after: int | None = None) -> None:
    """Everyone on duty at desks A and B has a verified address; with ``again_after``
    everyone is e-mailed a second time that many seconds later if nobody acknowledges."""
    for person in (region.operator_a, region.supervisor_a, region.operator_b, region.supervisor_b):
        verified_email(person)
        if again_after:
            for delay in (0, again_after):
                NotificationRule.objects.create(
                    user=person, urgency="escalation", kind="email", delay_seconds=delay
                )


def level_one(region) -> Crisis:
    """A crisis affecting states A and B enters level 1 (notifies desks A and B)."""
    return make_crisis(
        region, make_escalation_protocol(), affected=[region.state_a, region.state_b]
    )


def inbox_counts(smtp: SMTPServer) -> Counter:
    return Counter(address for m in smtp.inbox.messages for address in m.to)


def test_level_one_emails_each_officer_once_and_the_link_stops_it(
    region, private_redis, smtp_server, worker
):
    prepare(region, again_after=8)
    # One attempt per chunk: the firing process sends one, the other three go to the
    # escalation queue for the worker's other process (a lost hand-out would wait for
    # the 6 s watchdog and miss the 5 s below).
    worker(PAGING_SEND_CHUNK=1)
    with broker(private_redis.url):
        started = time.monotonic()
        crisis = level_one(region)
        wait_for(
            lambda: sorted(inbox_counts(smtp_server)) == ADDRESSES,
            timeout=5,
            what="one e-mail per on-duty officer of desks A and B",
        )
        elapsed = time.monotonic() - started
        assert set(inbox_counts(smtp_server).values()) == {1}
        message = smtp_server.inbox.to("op-b@example.org")[0]
        assert crisis.reference in message.subject and "level 1" in message.subject
        assert "Asia/Manila" in message.body and " UTC)" in message.body

        link = re.search(r"https?://[^/\s]+(/ack/[^/\s]+/)", message.body).group(1)
        assert Client().post(link).status_code == 200
        crisis.refresh_from_db()
        assert crisis.escalation_state == EscalationState.ACKNOWLEDGED
        later = DeliveryAttempt.objects.filter(delay_seconds=8)
        assert set(later.values_list("state", flat=True)) == {"cancelled"}

        # Past the second e-mails' due time (8 s) and a sweep: nothing more went out.
        time.sleep(max(0, 8 + 2.5 - (time.monotonic() - started)))
        assert sorted(inbox_counts(smtp_server).elements()) == ADDRESSES
    print(f"\nlevel 1 to four inboxes in {elapsed:.2f} s")


def test_sigkill_mid_send_loses_and_duplicates_nothing(region, private_redis, smtp_server, worker):
    prepare(region)
    # One process, so the held send is the only one in flight when the worker dies.
    first = worker(concurrency=1)
    smtp_server.inbox.hold.set()
    with broker(private_redis.url):
        level_one(region)
        wait_for(smtp_server.inbox.holding.is_set, timeout=15, what="a send to be held mid-DATA")
        first.kill()
        smtp_server.inbox.release.set()  # the server refuses it: the sender went away
        # Claimed in one batch: the send on the wire and the ones after it, all `sending`.
        sending = DeliveryAttempt.objects.filter(state="sending")
        claimed = dict(sending.values_list("pk", "message_id"))
        assert claimed and smtp_server.inbox.count() == 0
        first.start()
        wait_for(
            lambda: sorted(inbox_counts(smtp_server)) == ADDRESSES,
            timeout=40,
            what="every officer's e-mail after the restart",
        )
        time.sleep(2)  # let any late duplicate show itself
    assert set(inbox_counts(smtp_server).values()) == {1}, inbox_counts(smtp_server)
    for pk, message_id in claimed.items():
        resent = DeliveryAttempt.objects.get(pk=pk)
        assert resent.state == "sent" and resent.tries == 2  # its watchdog claimed it again
        [message] = smtp_server.inbox.to(resent.address)
        assert message.message_id == message_id  # the same message, sent again
    assert set(DeliveryAttempt.objects.values_list("state", flat=True)) == {"sent"}


def test_sigkill_after_the_server_accepted_resends_the_same_message(
    region, private_redis, smtp_server, worker
):
    """The residual window (docs/paging.md): the server stored the message but the sender
    died before hearing "250". The resend is the same message (same Message-ID), which
    mail stores and clients fold; never a different one, and never more than one more."""
    prepare(region)
    first = worker(concurrency=1)
    smtp_server.inbox.hold_accepted.set()
    with broker(private_redis.url):
        level_one(region)
        wait_for(smtp_server.inbox.holding.is_set, timeout=15, what="an accepted send held")
        first.kill()
        smtp_server.inbox.release.set()
        [stored] = smtp_server.inbox.messages  # stored; its sender never heard "250"
        held_id = DeliveryAttempt.objects.get(state="sending", message_id=stored.message_id).pk
        first.start()
        wait_for(
            lambda: smtp_server.inbox.count() >= 5,
            timeout=40,
            what="every officer's e-mail, and the held one again, after the restart",
        )
        time.sleep(2)
    resent = DeliveryAttempt.objects.get(pk=held_id)
    copies = smtp_server.inbox.to(resent.address)
    assert len(copies) == 2 and {m.message_id for m in copies} == {resent.message_id}
    others = Counter(inbox_counts(smtp_server))
    del others[resent.address]
    assert sorted(others) == [a for a in ADDRESSES if a != resent.address]
    assert set(others.values()) == {1}
