"""Delivery attempts on the deadline engine: each sent once, retried, failed over.

Every :class:`~paging.models.DeliveryAttempt` is armed as a ``paging.attempt`` deadline
(subject ``paging:attempt:<id>``), so it is due on time and survives worker crashes like
every other timer (docs/escalation.md). A send over SMTP cannot be part of a database
transaction, so an attempt goes through three committed steps:

1. **Claim** (the deadline's handler, in the firing transaction): the attempt becomes
   ``sending`` with a fixed Message-ID and a try count, and the same deadline is re-armed
   as a *watchdog* due ``PAGING_SEND_TIMEOUT_SECONDS`` later. Commit.
2. **Send** (right after that commit, in the same worker process): re-read the attempt;
   send only if it is still ``sending`` with this try (an acknowledgement cancels it).
3. **Record** (one short transaction): ``sent`` and the watchdog cancelled; or, on a
   transient failure, ``queued`` again with the deadline re-armed after a backoff
   (``PAGING_RETRY_BACKOFF_SECONDS``); after ``PAGING_MAX_TRIES`` or a permanent failure,
   ``failed`` with the reason, and the person's next verified method gets an attempt.

If the worker dies anywhere between 1 and 3, the watchdog fires (its ETA task, or the
sweep) and finds the attempt still ``sending``: the outcome is unknown, so it sends again
with the **same Message-ID**. Killed before the mail server accepted the message (while
connecting, or mid-DATA): nothing was delivered, the resend is the only copy. The one
residual window is between the server's ``250`` after DATA and the commit of step 3 (one
UPDATE): a kill exactly there delivers a second copy with the same Message-ID, which mail
stores and clients may fold. Exactly-once over SMTP is impossible in general (RFC 5321
§4.1.1.4 names the same window on the server side); this makes it one round trip wide.

The watchdog must outlast the longest SMTP conversation, or a slow send would be sent
again: settings refuse ``PAGING_SEND_TIMEOUT_SECONDS`` below three ``EMAIL_TIMEOUT``\\ s.

Lock order: the deadline row (held by the engine) → the attempt row, taken ``NOWAIT``
(``DeadlineBusy`` backs off) because acknowledgements lock attempts, then their deadlines.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import make_msgid
from django.db import DatabaseError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from deadlines.models import Deadline
from deadlines.services import (
    DeadlineBusy,
    cancel_deadlines,
    register_handler,
    schedule_deadline,
)
from paging.links import ack_url, desk_time, link_expires_at
from paging.models import (
    AttemptState,
    ContactMethod,
    DeliveryAttempt,
    PageRecipient,
)
from paging.transports import (
    Message,
    PermanentFailure,
    TransientFailure,
    TransportError,
    offered_kinds,
    transport_for,
)

logger = logging.getLogger(__name__)

ATTEMPT_KIND = "paging.attempt"

#: Attempts that may still send (an acknowledgement cancels them).
LIVE_STATES = (AttemptState.QUEUED, AttemptState.SENDING)


def send_timeout() -> timedelta:
    return timedelta(seconds=settings.PAGING_SEND_TIMEOUT_SECONDS)


def backoff(tries: int) -> timedelta:
    steps = settings.PAGING_RETRY_BACKOFF_SECONDS
    return timedelta(seconds=steps[min(tries, len(steps)) - 1] if steps else 30)


def verified_methods(user) -> list[ContactMethod]:
    """The person's verified methods whose kind a transport delivers, in their order."""
    return list(
        ContactMethod.objects.filter(
            user=user, verified_at__isnull=False, kind__in=offered_kinds()
        ).order_by("position", "id")
    )


# --- arming ---------------------------------------------------------------------------------


def arm(attempt: DeliveryAttempt) -> None:
    """Arm ``attempt``'s deadline at its due time (inside the caller's transaction)."""
    schedule_deadline(
        kind=ATTEMPT_KIND,
        subject_key=attempt.deadline_subject,
        due_at=attempt.due_at,
        payload={"attempt_id": attempt.pk},
    )


def queue_attempt(
    *, recipient: PageRecipient, method: ContactMethod | None, due_at, delay_seconds: int = 0
) -> DeliveryAttempt:
    """Record one attempt for ``recipient`` by ``method`` and arm it. Without a method the
    attempt is recorded as failed at once: nobody is silently left out."""
    attempt = DeliveryAttempt.objects.create(
        page_id=recipient.page_id,
        recipient=recipient,
        method=method,
        kind=method.kind if method else "",
        address=method.address if method else "",
        delay_seconds=delay_seconds,
        due_at=due_at,
    )
    if method is None:
        _fail(attempt, "no verified contact method")
    else:
        arm(attempt)
    return attempt


def cancel_attempts(page_ids: list[int]) -> int:
    """Cancel every attempt of these pages that may still send, and its deadline.

    Called holding the pages' row locks. An attempt being sent right now is cancelled
    too: its sender re-reads the state just before sending and skips it; one already on
    the wire is recorded as sent when it returns.
    """
    live = list(
        DeliveryAttempt.objects.select_for_update()
        .filter(page_id__in=page_ids, state__in=LIVE_STATES)
        .order_by("pk")
    )
    now = timezone.now()
    for attempt in live:
        attempt.state = AttemptState.CANCELLED
        attempt.cancelled_at = now
        attempt.save(update_fields=["state", "cancelled_at"])
        cancel_deadlines(kind=ATTEMPT_KIND, subject_key=attempt.deadline_subject)
    return len(live)


# --- 1. claim (the deadline's handler) ------------------------------------------------------


def _lock_attempt_nowait(attempt_id: int) -> DeliveryAttempt | None:
    attempts = DeliveryAttempt.objects.select_related("page", "recipient").filter(pk=attempt_id)
    if not connection.features.has_select_for_update_nowait:
        return attempts.first()
    try:
        return attempts.select_for_update(nowait=True, of=("self",)).first()
    except DatabaseError as exc:
        raise DeadlineBusy(f"delivery attempt {attempt_id} is locked") from exc


@register_handler(ATTEMPT_KIND)
def on_attempt_deadline(deadline: Deadline) -> None:
    """An attempt is due (or its watchdog ran out): claim it and send after commit."""
    attempt = _lock_attempt_nowait(deadline.payload["attempt_id"])
    if attempt is None or attempt.state not in LIVE_STATES:
        return
    if not attempt.page.is_open:
        attempt.state = AttemptState.CANCELLED
        attempt.cancelled_at = timezone.now()
        attempt.save(update_fields=["state", "cancelled_at"])
        return
    if attempt.state == AttemptState.SENDING:
        # The last send never reported back (worker killed, or stuck past the watchdog).
        attempt.last_error = "the previous try did not report back; sending again"
    if attempt.tries >= settings.PAGING_MAX_TRIES:
        _fail(attempt, f"no answer after {attempt.tries} tries")
        return
    now = timezone.now()
    attempt.state = AttemptState.SENDING
    attempt.tries += 1
    attempt.sending_at = now
    if not attempt.message_id:
        attempt.message_id = make_msgid(domain=settings.PAGING_MESSAGE_ID_DOMAIN)
    attempt.save(update_fields=["state", "tries", "sending_at", "message_id", "last_error"])
    schedule_deadline(  # the watchdog
        kind=ATTEMPT_KIND,
        subject_key=attempt.deadline_subject,
        due_at=now + send_timeout(),
        payload={"attempt_id": attempt.pk},
    )
    attempt_id, try_no = attempt.pk, attempt.tries
    transaction.on_commit(lambda: deliver(attempt_id, try_no))


# --- 2. send --------------------------------------------------------------------------------


def render_message(attempt: DeliveryAttempt) -> Message:
    recipient = attempt.recipient
    page = attempt.page
    desk = page.desk
    context = {
        "page": page,
        "desk": desk,
        "person": recipient.user,
        "ack_url": ack_url(recipient),
        "link_url": (settings.PAGING_BASE_URL.rstrip("/") + page.link_path)
        if page.link_path
        else "",
        "expires": desk_time(link_expires_at(recipient), desk),
    }
    subject = f"[{page.get_urgency_display().upper()}] {page.title}"
    body = render_to_string("paging/email/page.txt", context)
    return Message(
        to=attempt.address,
        subject=subject,
        body=body,
        message_id=attempt.message_id,
        headers={"X-Page-Id": str(page.pk), "Auto-Submitted": "auto-generated"},
    )


def deliver(attempt_id: int, try_no: int) -> None:
    """Send try ``try_no`` of an attempt claimed by :func:`on_attempt_deadline`, then
    record the outcome. Runs after the claim committed; never raises."""
    attempt = (
        DeliveryAttempt.objects.select_related("page", "page__desk", "recipient__user")
        .filter(pk=attempt_id)
        .first()
    )
    if attempt is None or attempt.state != AttemptState.SENDING or attempt.tries != try_no:
        return  # cancelled by an acknowledgement, or superseded by a later try
    transport = transport_for(attempt.kind)
    try:
        if transport is None:
            raise PermanentFailure(f"no transport delivers {attempt.kind!r} any more")
        transport.send(render_message(attempt))
    except TransportError as exc:
        _record_failure(attempt_id, try_no, exc)
    except Exception as exc:  # a bug or an unexpected library error: retry, keep the reason
        logger.exception("paging: sending attempt %s failed", attempt_id)
        _record_failure(attempt_id, try_no, TransientFailure(f"{type(exc).__name__}: {exc}"))
    else:
        _record_sent(attempt_id)


# --- 3. record ----------------------------------------------------------------------------


def _record_sent(attempt_id: int) -> None:
    with transaction.atomic():
        attempt = DeliveryAttempt.objects.select_for_update().filter(pk=attempt_id).first()
        if attempt is None or attempt.state not in (AttemptState.SENDING, AttemptState.CANCELLED):
            return
        # Sent is what happened, even if an acknowledgement cancelled it on the way.
        attempt.state = AttemptState.SENT
        attempt.sent_at = timezone.now()
        attempt.save(update_fields=["state", "sent_at"])
        cancel_deadlines(kind=ATTEMPT_KIND, subject_key=attempt.deadline_subject)


def _record_failure(attempt_id: int, try_no: int, exc: TransportError) -> None:
    with transaction.atomic():
        attempt = (
            DeliveryAttempt.objects.select_for_update(of=("self",))
            .select_related("page", "recipient")
            .filter(pk=attempt_id)
            .first()
        )
        if attempt is None or attempt.state != AttemptState.SENDING or attempt.tries != try_no:
            return
        attempt.last_error = exc.reason[:2000]
        permanent = isinstance(exc, PermanentFailure)
        if permanent or attempt.tries >= settings.PAGING_MAX_TRIES:
            _fail(attempt, exc.reason if permanent else f"gave up after {attempt.tries} tries")
            return
        attempt.state = AttemptState.QUEUED
        attempt.due_at = timezone.now() + backoff(attempt.tries)
        attempt.save(update_fields=["state", "due_at", "last_error"])
        arm(attempt)


def _fail(attempt: DeliveryAttempt, reason: str) -> None:
    """Record ``attempt`` as failed and fail over to the person's next verified method."""
    attempt.state = AttemptState.FAILED
    attempt.failed_at = timezone.now()
    attempt.failed_reason = reason[:300]
    attempt.save(update_fields=["state", "failed_at", "failed_reason", "last_error"])
    cancel_deadlines(kind=ATTEMPT_KIND, subject_key=attempt.deadline_subject)
    if attempt.method_id is None or not attempt.page.is_open:
        return
    tried = set(
        DeliveryAttempt.objects.filter(recipient=attempt.recipient_id).values_list(
            "method_id", flat=True
        )
    )
    recipient = attempt.recipient
    for method in verified_methods(recipient.user_id):
        if method.pk not in tried:
            queue_attempt(recipient=recipient, method=method, due_at=timezone.now())
            return
