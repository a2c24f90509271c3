"""Delivery attempts on the deadline engine: each sent once, retried, failed over.

Every :class:`~paging.models.DeliveryAttempt` is armed as a ``paging.attempt`` deadline
(subject ``paging:attempt:<id>``), so it is due on time and survives worker crashes like
every other timer (docs/escalation.md). A send over SMTP cannot be part of a database
transaction, so an attempt goes through three committed steps:

1. **Claim** (the deadlines' batch handler, in the firing transaction): the attempts
   become ``sending`` with a fixed Message-ID and a try count, and each subject gets a
   *watchdog* deadline due ``PAGING_SEND_TIMEOUT_SECONDS`` later. Commit.
2. **Send** (right after that commit, in chunks spread over the worker's processes):
   just before each send, one statement checks it is still ``sending`` with this try
   (an acknowledgement cancels it) and pushes its watchdog a full timeout away.
3. **Record** (one short transaction per send): ``sent`` and the watchdog cancelled; or, on a
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

Every try is logged (:class:`~paging.models.DeliveryTry`: time, duration, HTTP status,
outcome, reason). SMS and voice attempts keep the provider's id, and its delivery
receipts (:func:`record_provider_status`) move a sent attempt to ``delivered`` or, when
the provider could not deliver, to ``failed`` with a failover. Desk webhook attempts
(``kind="webhook"``, no recipient) go through the same steps but are not cancelled by an
acknowledgement: the desk's system is told the page opened and, later, that it ended.

Lock order: the deadline row (held by the engine) → the attempt row, skipped while
locked (its deadline handed back to the engine, tried again shortly) because
acknowledgements lock attempts, then their deadlines.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from contextlib import ExitStack
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.core.mail import make_msgid
from django.db import connection, transaction
from django.db.models import Exists
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone, translation

from core.exercise import EXERCISE_MARK
from core.metrics import count_paging_attempt
from deadlines.models import Deadline, DeadlineState
from deadlines.services import (
    DeadlineSpec,
    cancel_deadlines,
    register_handler,
    schedule_deadlines_bulk,
)
from paging.links import ack_url, desk_time, link_expires_at
from paging.models import (
    AttemptState,
    ContactMethod,
    DeliveryAttempt,
    DeliveryTry,
    DeskWebhook,
    Page,
    PageRecipient,
)
from paging.preferences import languages_of
from paging.transports import (
    Message,
    PermanentFailure,
    Receipt,
    TransientFailure,
    TransportError,
    offered_kinds,
    transport_for,
)

logger = logging.getLogger(__name__)

ATTEMPT_KIND = "paging.attempt"
#: The task that sends a chunk of claimed attempts (``paging.tasks``), sent by name.
DELIVER_TASK = "paging.tasks.deliver_attempts"
WEBHOOK_KIND = "webhook"

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


def _spec(attempt: DeliveryAttempt, due_at) -> DeadlineSpec:
    return DeadlineSpec(
        kind=ATTEMPT_KIND,
        subject_key=attempt.deadline_subject,
        due_at=due_at,
        payload={"attempt_id": attempt.pk},
    )


def arm(attempt: DeliveryAttempt) -> None:
    """Arm ``attempt``'s deadline at its due time (inside the caller's transaction).

    Armed the bulk way (replacing a pending one of the same subject): attempts due at
    about the same time — a level paging thirty desks — share one firing task per slot
    and reach :func:`on_attempt_deadlines` together, claimed in one batch."""
    schedule_deadlines_bulk([_spec(attempt, attempt.due_at)])


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


def queue_webhook_event(*, page: Page, webhook: DeskWebhook, event: str, data: dict) -> None:
    """Record one Standard Webhooks event for ``webhook`` about ``page`` and arm it now
    (inside the caller's transaction: a rolled-back action posts nothing)."""
    now = timezone.now()
    attempt = DeliveryAttempt.objects.create(
        page=page,
        webhook=webhook,
        kind=WEBHOOK_KIND,
        address=webhook.url,
        due_at=now,
        message_id=f"msg_{secrets.token_hex(12)}",
        # ``exercise`` at the top too: a receiving system sees a drill before it reads on.
        payload={
            "type": event,
            "timestamp": now.isoformat(),
            "exercise": page.exercise,
            "data": data,
        },
    )
    arm(attempt)


def cancel_attempts(page_ids: list[int]) -> int:
    """Cancel every attempt to a person of these pages that may still send, and its
    deadline (desk webhook events still go: they tell the desk's system what happened).

    Called holding the pages' row locks. An attempt being sent right now is cancelled
    too: its sender re-reads the state just before sending and skips it; one already on
    the wire is recorded as sent when it returns.
    """
    live = list(
        DeliveryAttempt.objects.select_for_update()
        .filter(page_id__in=page_ids, state__in=LIVE_STATES)
        .exclude(kind=WEBHOOK_KIND)
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


def _lock_attempts(attempt_ids: list[int]) -> tuple[list[DeliveryAttempt], set[int]]:
    """The attempts of ``attempt_ids`` this transaction could lock, and the ids of those
    another holds right now (an acknowledgement cancelling them)."""
    attempts = DeliveryAttempt.objects.select_related("page").filter(pk__in=attempt_ids)
    if not connection.features.has_select_for_update_skip_locked:
        return list(attempts.order_by("pk")), set()
    locked = list(attempts.select_for_update(skip_locked=True, of=("self",)).order_by("pk"))
    missing = set(attempt_ids) - {a.pk for a in locked}
    busy = set(DeliveryAttempt.objects.filter(pk__in=missing).values_list("pk", flat=True))
    return locked, busy


@register_handler(ATTEMPT_KIND, batch=True)
def on_attempt_deadlines(deadlines: list[Deadline]) -> list[Deadline]:
    """Attempts are due (or their watchdogs ran out): claim them and send after commit.

    One batch is a few statements whatever its size: the attempts locked together
    (skipping those an acknowledgement holds: their deadlines are handed back to the
    engine, which tries them again shortly), the claims written in one ``UPDATE``, the
    watchdogs armed in one insert. The sends then go out in chunks, each recorded as
    soon as it is accepted (:func:`deliver_many`)."""
    now = timezone.now()
    claimed: list[DeliveryAttempt] = []
    attempts, busy = _lock_attempts([d.payload["attempt_id"] for d in deadlines])
    handed_back = [d for d in deadlines if d.payload["attempt_id"] in busy]
    for attempt in attempts:
        if attempt.state not in LIVE_STATES:
            continue
        if not attempt.page.is_open and attempt.kind != WEBHOOK_KIND:
            attempt.state = AttemptState.CANCELLED
            attempt.cancelled_at = now
            attempt.save(update_fields=["state", "cancelled_at"])
            continue
        if attempt.state == AttemptState.SENDING:
            # The last send never reported back (worker killed, or stuck past the watchdog).
            attempt.last_error = "the previous try did not report back; sending again"
        if attempt.tries >= settings.PAGING_MAX_TRIES:
            _fail(attempt, f"no answer after {attempt.tries} tries")
            continue
        attempt.state = AttemptState.SENDING
        attempt.tries += 1
        attempt.sending_at = now
        if not attempt.message_id:
            attempt.message_id = make_msgid(domain=settings.PAGING_MESSAGE_ID_DOMAIN)
        claimed.append(attempt)
    if not claimed:
        return handed_back
    DeliveryAttempt.objects.bulk_update(
        claimed, ["state", "tries", "sending_at", "message_id", "last_error"]
    )
    schedule_deadlines_bulk([_spec(a, now + send_timeout()) for a in claimed])  # watchdogs
    tries = [(a.pk, a.tries) for a in claimed]
    transaction.on_commit(lambda: _hand_out(tries))
    return handed_back


def _hand_out(tries: list[tuple[int, int]]) -> None:
    """Send the first chunk here; hand the others to the worker's other processes (the
    ``escalation`` queue), or send them here too when the broker cannot take them."""
    size = max(1, settings.PAGING_SEND_CHUNK)
    chunks = [tries[start : start + size] for start in range(0, len(tries), size)]
    handed = 1
    try:
        for chunk in chunks[1:]:
            current_app.send_task(DELIVER_TASK, ([list(t) for t in chunk],), retry=False)
            handed += 1
    except Exception:  # broker away: this process sends the rest after its own chunk
        logger.warning("paging: could not hand out %d chunks", len(chunks) - handed, exc_info=True)
    for chunk in [chunks[0], *chunks[handed:]]:
        deliver_many(chunk)


# --- 2. send --------------------------------------------------------------------------------


def status_callback_url() -> str:
    return settings.PAGING_BASE_URL.rstrip("/") + reverse("paging-provider-status")


def render_message(attempt: DeliveryAttempt, language: str | None = None) -> Message:
    """The message of ``attempt`` for its transport, in ``language`` (default: its
    recipient's, see :func:`~paging.preferences.languages_of`). Raises
    ``PermanentFailure`` when a webhook it was for is gone or turned off."""
    page = attempt.page
    if attempt.kind == WEBHOOK_KIND:
        webhook = attempt.webhook
        if webhook is None or not webhook.is_active:
            raise PermanentFailure("the desk webhook was removed or turned off")
        return Message(
            to=webhook.url,
            subject=str(attempt.payload.get("type", "")),
            body=json.dumps(attempt.payload, separators=(",", ":"), sort_keys=True),
            message_id=attempt.message_id,
            secret=webhook.secret,
        )
    recipient = attempt.recipient
    recipient.page = page  # the same row: no second read for the link's expiry
    desk = page.desk
    if language is None:
        language = languages_of([recipient.user_id]).get(recipient.user_id, "")
    context = {
        "page": page,
        "desk": desk,
        "person": recipient.user,
        "ack_url": ack_url(recipient),
        "reply_code": recipient.reply_code,
        "link_url": (settings.PAGING_BASE_URL.rstrip("/") + page.link_path)
        if page.link_path
        else "",
        "expires": desk_time(link_expires_at(recipient), desk),
        "exercise_mark": EXERCISE_MARK if page.exercise else "",
    }
    template = select_template([f"paging/{attempt.kind}/page.txt", "paging/email/page.txt"])
    # The words around the page's own title and body, in the person's language (the one
    # they chose; else the current one: English in a task).
    with translation.override(language or translation.get_language()):
        subject = f"[{page.get_urgency_display().upper()}] {page.title}"
        if page.exercise:
            # Drill traffic says so before anything else, as real drill traffic does.
            subject = f"{EXERCISE_MARK} {subject}"
        body = template.render(context)
    phone = attempt.kind in ("sms", "voice")
    return Message(
        to=attempt.address,
        subject=subject,
        body=body.strip() if phone else body,
        message_id=attempt.message_id,
        headers={} if phone else {"X-Page-Id": str(page.pk), "Auto-Submitted": "auto-generated"},
        status_callback=status_callback_url() if phone else "",
    )


def deliver(attempt_id: int, try_no: int) -> None:
    """:func:`deliver_many` for one attempt."""
    deliver_many([(attempt_id, try_no)])


def deliver_many(tries: list[tuple[int, int]]) -> None:
    """Send each ``(attempt id, try)`` claimed by :func:`on_attempt_deadlines`, in order,
    and record each outcome as soon as it is known (so a worker killed mid-batch leaves
    at most the message on the wire unrecorded: its watchdog resends it with the same
    Message-ID). Runs after the claim committed; never raises.

    The batch reads its attempts, people and languages in three queries, and a transport
    that can (e-mail) keeps one connection open for the batch."""
    wanted = dict(tries)
    attempts = [
        attempt
        for attempt in DeliveryAttempt.objects.select_related(
            "page", "page__desk", "recipient__user", "webhook"
        )
        .filter(pk__in=wanted)
        .order_by("pk")
        # Cancelled by an acknowledgement, or superseded by a later try: not sent.
        if attempt.state == AttemptState.SENDING and attempt.tries == wanted[attempt.pk]
    ]
    languages = languages_of([a.recipient.user_id for a in attempts if a.recipient_id])
    with ExitStack() as batches:
        for kind in {a.kind for a in attempts}:
            transport = transport_for(kind)
            if transport is not None and hasattr(transport, "batch"):
                batches.enter_context(transport.batch())
        for attempt in attempts:
            language = languages.get(attempt.recipient.user_id, "") if attempt.recipient_id else ""
            try:
                _send(attempt, language)
            except Exception:
                # Recording failed (the database went away): stop here. What was sent and
                # not recorded, and what was not sent yet, is still ``sending``: each
                # watchdog sends it again, once.
                logger.exception("paging: recording attempt %s failed; batch stopped", attempt.pk)
                return


def _still_mine(attempt: DeliveryAttempt) -> bool:
    """Just before the send, in one statement: is the attempt still ``sending`` with this
    try (an acknowledgement cancels it; its watchdog firing re-claims it), and if so its
    watchdog is pushed to a full ``PAGING_SEND_TIMEOUT_SECONDS`` from now, so a send late
    in a long batch is never sent again while it is on the wire. The watchdog's row lock
    orders this against its firing: whichever comes second sees the other."""
    return bool(
        Deadline.objects.filter(
            kind=ATTEMPT_KIND, subject_key=attempt.deadline_subject, state=DeadlineState.PENDING
        )
        .filter(
            Exists(
                DeliveryAttempt.objects.filter(
                    pk=attempt.pk, state=AttemptState.SENDING, tries=attempt.tries
                )
            )
        )
        .update(due_at=timezone.now() + send_timeout())
    )


def _send(attempt: DeliveryAttempt, language: str) -> None:
    """Send one attempt and record the outcome (raises only if the record fails)."""
    attempt_id, try_no = attempt.pk, attempt.tries
    if not _still_mine(attempt):
        return
    transport = transport_for(attempt.kind)
    started = time.monotonic()
    try:
        if transport is None:
            raise PermanentFailure(f"no transport delivers {attempt.kind!r} any more")
        receipt = transport.send(render_message(attempt, language)) or Receipt()
    except TransportError as exc:
        permanent = isinstance(exc, PermanentFailure)
        count_paging_attempt(
            attempt.kind,
            "permanent_failure" if permanent else "transient_failure",
            exercise=attempt.page.exercise,
        )
        _record_failure(attempt_id, try_no, exc, _ms_since(started))
    except Exception as exc:  # a bug or an unexpected library error: retry, keep the reason
        logger.exception("paging: sending attempt %s failed", attempt_id)
        count_paging_attempt(attempt.kind, "transient_failure", exercise=attempt.page.exercise)
        failure = TransientFailure(f"{type(exc).__name__}: {exc}")
        _record_failure(attempt_id, try_no, failure, _ms_since(started))
    else:
        count_paging_attempt(attempt.kind, "sent", exercise=attempt.page.exercise)
        _record_sent(attempt, receipt, _ms_since(started))


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# --- 3. record ----------------------------------------------------------------------------


def _log(attempt_id: int, try_no: int, outcome: str, **fields) -> None:
    DeliveryTry.objects.create(
        attempt_id=attempt_id, try_no=try_no, at=timezone.now(), outcome=outcome, **fields
    )


def _record_sent(attempt: DeliveryAttempt, receipt: Receipt, duration_ms: int) -> None:
    """The try is logged; the attempt becomes sent (even if an acknowledgement cancelled
    it on the way: sent is what happened) and its watchdog is cancelled — three
    statements in one short transaction, attempt row before deadline row as everywhere."""
    now = timezone.now()
    with transaction.atomic():
        _log(
            attempt.pk,
            attempt.tries,
            DeliveryTry.Outcome.SENT,
            duration_ms=duration_ms,
            status_code=receipt.status_code,
            detail=(receipt.detail or receipt.provider_id)[:500],
        )
        sent = DeliveryAttempt.objects.filter(
            pk=attempt.pk, state__in=(AttemptState.SENDING, AttemptState.CANCELLED)
        ).update(state=AttemptState.SENT, sent_at=now, provider_id=receipt.provider_id)
        if sent:
            Deadline.objects.filter(
                kind=ATTEMPT_KIND, subject_key=attempt.deadline_subject, state=DeadlineState.PENDING
            ).update(state=DeadlineState.CANCELLED, cancelled_at=now)


def _record_failure(attempt_id: int, try_no: int, exc: TransportError, duration_ms: int) -> None:
    with transaction.atomic():
        attempt = (
            DeliveryAttempt.objects.select_for_update(of=("self",))
            .select_related("page", "recipient")
            .filter(pk=attempt_id)
            .first()
        )
        if attempt is None:
            return
        permanent = isinstance(exc, PermanentFailure)
        final = permanent or attempt.tries >= settings.PAGING_MAX_TRIES
        _log(
            attempt_id,
            try_no,
            DeliveryTry.Outcome.FAILED if final else DeliveryTry.Outcome.RETRY,
            duration_ms=duration_ms,
            status_code=exc.status_code,
            detail=exc.reason[:500],
        )
        if attempt.state != AttemptState.SENDING or attempt.tries != try_no:
            return
        attempt.last_error = exc.reason[:2000]
        if final:
            _fail(attempt, exc.reason if permanent else f"gave up after {attempt.tries} tries")
            return
        attempt.state = AttemptState.QUEUED
        attempt.due_at = timezone.now() + backoff(attempt.tries)
        attempt.save(update_fields=["state", "due_at", "last_error"])
        arm(attempt)


#: The provider's final words on a message or call (Twilio's MessageStatus/CallStatus).
DELIVERED_STATUSES = frozenset({"delivered", "completed"})
UNDELIVERED_STATUSES = frozenset({"undelivered", "failed", "busy", "no-answer", "canceled"})


def record_provider_status(*, provider_id: str, status: str, error_code: str = "") -> bool:
    """A delivery receipt from the SMS/voice provider for the message or call it named
    ``provider_id``: ``delivered`` (message) or ``completed`` (call answered) marks the
    attempt delivered; ``undelivered``, ``failed``, ``busy``, ``no-answer`` mark it failed
    with the reason and fail over if the page still waits. Other statuses are noted.
    Idempotent; returns whether an attempt was found."""
    status = status.strip().lower()[:32]
    with transaction.atomic():
        attempt = (
            DeliveryAttempt.objects.select_for_update(of=("self",))
            .select_related("page", "recipient")
            .filter(provider_id=provider_id)
            .exclude(provider_id="")
            .first()
        )
        if attempt is None:
            return False
        detail = status + (f" (error {error_code})" if error_code else "")
        _log(attempt.pk, attempt.tries, DeliveryTry.Outcome.RECEIPT, detail=detail[:500])
        attempt.provider_status = status
        if attempt.state == AttemptState.SENT and status in DELIVERED_STATUSES:
            attempt.state = AttemptState.DELIVERED
            attempt.delivered_at = timezone.now()
            attempt.save(update_fields=["provider_status", "state", "delivered_at"])
        elif attempt.state == AttemptState.SENT and status in UNDELIVERED_STATUSES:
            attempt.save(update_fields=["provider_status"])
            _fail(attempt, f"the provider could not deliver it: {detail}")
        else:
            attempt.save(update_fields=["provider_status"])
    return True


def _fail(attempt: DeliveryAttempt, reason: str) -> None:
    """Record ``attempt`` as failed and fail over: the person's next verified method that
    has not been tried gets an attempt now, or one already queued for later (a voice
    call after its delay) is brought forward to now."""
    attempt.state = AttemptState.FAILED
    attempt.failed_at = timezone.now()
    attempt.failed_reason = reason[:300]
    attempt.save(update_fields=["state", "failed_at", "failed_reason", "last_error"])
    cancel_deadlines(kind=ATTEMPT_KIND, subject_key=attempt.deadline_subject)
    if attempt.method_id is None or attempt.recipient_id is None or not attempt.page.is_open:
        return
    now = timezone.now()
    others = list(
        DeliveryAttempt.objects.filter(recipient=attempt.recipient_id).exclude(pk=attempt.pk)
    )
    recipient = attempt.recipient
    for method in verified_methods(recipient.user_id):
        if method.pk == attempt.method_id:
            continue
        tried = [a for a in others if a.method_id == method.pk]
        if not tried:
            queue_attempt(recipient=recipient, method=method, due_at=now)
            return
        later = next(
            (
                a
                for a in tried
                if a.state == AttemptState.QUEUED and a.tries == 0 and a.due_at > now
            ),
            None,
        )
        if later is not None:
            later.due_at = now
            later.save(update_fields=["due_at"])
            arm(later)
            return
