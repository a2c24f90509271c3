"""The deadline engine: every timed thing fires on time, exactly once, through crashes.

A :class:`~crisis.models.Deadline` row is the truth; Celery is only the alarm clock.

- **Schedule** (:func:`schedule_deadline`, :func:`schedule_deadlines_bulk`): write the row
  inside the caller's transaction. If it is due within the enqueue horizon, a Celery task
  with that ETA is sent *after commit*; a deadline further away waits in the database and
  the sweep hands it to the broker once it comes within the horizon. The broker never
  holds an ETA longer than the horizon, which stays far below Redis' visibility timeout
  (celery #2599, kombu #337) and RabbitMQ's ``consumer_timeout``.
- **Fire** (:func:`fire_deadline`, :func:`fire_due_deadlines`): lock the row, return if it
  is no longer pending or the task's token is stale, else mark it fired and run the
  kind's handler *in the same transaction*. Either both commit or neither does, so a
  deadline acts once however many tasks, sweeps or redeliveries reach it.
- **Sweep** (:func:`sweep`, Celery beat every few seconds): fire overdue pending deadlines
  whose task was lost (worker SIGKILLed, broker restarted or flushed), enqueue those
  coming within the horizon, record a heartbeat for the watchdog.
- **Cancel** (:func:`cancel_deadlines`): a state change under the same row lock; a late
  task finds nothing to do.

Handlers plug in with :func:`register_handler`; see docs/escalation.md.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput
from core.events import run_after_response
from core.metrics import observe_deadline_fired
from deadlines.models import Deadline, DeadlineProbe, DeadlineState, SweepHeartbeat

logger = logging.getLogger(__name__)

Handler = Callable[[Deadline], None]

#: kind -> handler. Filled by :func:`register_handler` at import time (apps' ``ready``).
HANDLERS: dict[str, Handler] = {}
#: kind -> handler taking a list: registered with ``register_handler(kind, batch=True)``.
BATCH_HANDLERS: dict[str, Callable[[list[Deadline]], None]] = {}

#: The engine's Celery tasks (``deadlines.tasks``), sent by name: the engine never imports
#: its own edge (the tasks import the engine).
FIRE_TASK = "deadlines.tasks.fire_deadline"
FIRE_DUE_TASK = "deadlines.tasks.fire_due_deadlines"
SWEEP_TASK = "deadlines.tasks.sweep_deadlines"

#: The kind of the engine's own canary (``deadlines_status --probe``, benchmark, tests).
PROBE_KIND = "deadline.probe"

#: A task that arrives this much before the due time (clock skew) leaves the row alone.
EARLY_TOLERANCE = timedelta(milliseconds=250)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def horizon() -> timedelta:
    """How far ahead the broker may be handed an ETA."""
    return timedelta(seconds=_setting("DEADLINE_ENQUEUE_HORIZON_SECONDS", 60))


def rescue_grace() -> timedelta:
    """How overdue a deadline must be before the sweep fires it itself."""
    return timedelta(seconds=_setting("DEADLINE_RESCUE_GRACE_SECONDS", 1.0))


def retry_delay() -> timedelta:
    """How long after a failed handler run the deadline is tried again."""
    return timedelta(seconds=_setting("DEADLINE_RETRY_DELAY_SECONDS", 10))


def slot_width() -> timedelta:
    """Bulk-scheduled deadlines share one firing task per slot of at least this width."""
    return timedelta(milliseconds=_setting("DEADLINE_SLOT_MS", 20))


def max_slot_tasks() -> int:
    """At most this many slot tasks per bulk call: slots widen to stay under it."""
    return int(_setting("DEADLINE_MAX_SLOT_TASKS", 300))


def _lock(queryset, *, skip_locked: bool):
    """``SELECT … FOR UPDATE`` (skipping locked rows where the database can).

    SQLite has no row locks: its writers are serialised by ``BEGIN IMMEDIATE``
    (settings), so the state check inside the transaction is enough there.
    """
    features = connection.features
    if not features.has_select_for_update:
        return queryset
    if skip_locked and features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset.select_for_update()


# --- handlers ---------------------------------------------------------------------------


def register_handler(
    kind: str, *, batch: bool = False, single: Handler | None = None
) -> Callable[[Handler], Handler]:
    """Register ``handler(deadline)`` for deadlines of ``kind``.

    The handler runs inside the firing transaction while the deadline row is locked and
    already marked fired: its database writes commit atomically with the firing, and if
    it raises, nothing of it happens and the deadline stays pending (retried after
    ``DEADLINE_RETRY_DELAY_SECONDS``). It may call :func:`schedule_deadline` to arm the
    next step (also for the same kind and subject). Anything leaving the database must go
    through ``transaction.on_commit`` / ``core.events.publish_on_commit``.

    With ``batch=True`` the handler takes a *list* of deadlines of its kind, all fired in
    one transaction (a bulk insert instead of a row at a time). It may return the
    deadlines it could not act on now (what it must lock is busy): they go back to
    pending in the same transaction, retried after ``BUSY_RETRY``, exactly as a single
    handler raising :class:`DeadlineBusy`. ``single`` (optional) is the kind's handler of
    one deadline, for a deadline's own task (``fire_deadline``); without it, a single
    firing calls the batch handler with a list of one.
    """

    def decorator(handler):
        one_handler = single if batch and single is not None else handler
        existing = HANDLERS.get(kind)
        if existing is not None and getattr(existing, "__wrapped__", existing).__qualname__ not in (
            handler.__qualname__,
            one_handler.__qualname__,
        ):
            raise RuntimeError(f"a handler for deadline kind {kind!r} is already registered")
        if batch:
            BATCH_HANDLERS[kind] = handler
            if single is not None:
                HANDLERS[kind] = single
                return handler

            def one(deadline: Deadline) -> None:
                if handler([deadline]):
                    raise DeadlineBusy(f"deadline {deadline.pk} handed back by its handler")

            one.__wrapped__ = handler
            HANDLERS[kind] = one
        else:
            BATCH_HANDLERS.pop(kind, None)
            HANDLERS[kind] = handler
        return handler

    return decorator


@register_handler(PROBE_KIND, batch=True)
def _fire_probes(deadlines: list[Deadline]) -> None:
    """The minimal handler: one row per firing, so a double firing is countable."""
    fired_at = timezone.now()
    DeadlineProbe.objects.bulk_create(
        [
            DeadlineProbe(
                deadline_id=d.pk,
                due_at=d.due_at,
                fired_at=fired_at,
                label=str(d.payload.get("label", ""))[:64],
            )
            for d in deadlines
        ]
    )


# --- scheduling ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineSpec:
    kind: str
    subject_key: str
    due_at: datetime
    payload: dict | None = None


def _check_spec(kind: str, subject_key: str, due_at: datetime) -> None:
    if kind not in HANDLERS:
        raise InvalidInput(
            _("No handler is registered for deadline kind %(kind)s.") % {"kind": repr(kind)},
            code="unknown_deadline_kind",
            details={"kind": kind, "known": sorted(HANDLERS)},
        )
    if not subject_key:
        raise InvalidInput(_("A deadline needs a subject key."), code="invalid_deadline")
    if timezone.is_naive(due_at):
        raise InvalidInput(_("A deadline's due time must be timezone-aware."), code="naive_time")


def schedule_deadline(
    *, kind: str, subject_key: str, due_at: datetime, payload: dict | None = None
) -> Deadline:
    """Arm (or re-arm) the one pending deadline of ``kind`` for ``subject_key``.

    Runs inside the caller's transaction. A pending deadline of the same kind and subject
    is re-armed in place: new due time and payload, and a new token, so a task already
    sent for the old due time finds a stale token and does nothing. If the deadline is due
    within the horizon a Celery task is sent after commit; otherwise the sweep sends it.
    """
    _check_spec(kind, subject_key, due_at)
    payload = payload or {}
    # No savepoint of its own (an error here aborts the caller's action anyway): this runs
    # inside handlers, once per firing, where every round trip counts.
    with transaction.atomic(savepoint=False):
        deadline = (
            _lock(Deadline.objects, skip_locked=False)
            .filter(kind=kind, subject_key=subject_key, state=DeadlineState.PENDING)
            .first()
        )
        if deadline is None:
            try:
                with transaction.atomic():
                    deadline = Deadline.objects.create(
                        kind=kind, subject_key=subject_key, due_at=due_at, payload=payload
                    )
            except IntegrityError:
                # Someone armed the same subject concurrently: re-arm theirs.
                deadline = _lock(Deadline.objects, skip_locked=False).get(
                    kind=kind, subject_key=subject_key, state=DeadlineState.PENDING
                )
                _rearm(deadline, due_at, payload)
        else:
            _rearm(deadline, due_at, payload)
        if deadline.due_at <= timezone.now() + horizon():
            Deadline.objects.filter(pk=deadline.pk).update(enqueued_at=timezone.now())
            _send_on_commit(deadline.pk, deadline.token, deadline.due_at)
    return deadline


def _rearm(deadline: Deadline, due_at: datetime, payload: dict) -> None:
    deadline.due_at = due_at
    deadline.payload = payload
    deadline.token = uuid.uuid4()
    deadline.enqueued_at = None
    deadline.attempts = 0
    deadline.last_attempt_at = None
    deadline.last_error = ""
    deadline.save(
        update_fields=[
            "due_at",
            "payload",
            "token",
            "enqueued_at",
            "attempts",
            "last_attempt_at",
            "last_error",
        ]
    )


def schedule_deadlines_bulk(specs: Iterable[DeadlineSpec]) -> list[int]:
    """Arm many deadlines with a few statements (10,000 in a fraction of a second).

    Same guarantees as :func:`schedule_deadline`: pending deadlines of the same kind and
    subject are replaced (cancelled, then a fresh row). Instead of one broker task per
    deadline, one task per slot (``DEADLINE_SLOT_MS``) fires every deadline due by then.
    Runs inside the caller's transaction; the slot tasks are sent after commit. Returns
    the new deadlines' ids, in the order of ``specs``.
    """
    specs = list(specs)
    if not specs:
        return []
    for spec in specs:
        _check_spec(spec.kind, spec.subject_key, spec.due_at)
    now = timezone.now()
    soon = now + horizon()
    with transaction.atomic():
        by_kind: dict[str, list[str]] = {}
        for spec in specs:
            by_kind.setdefault(spec.kind, []).append(spec.subject_key)
        for kind, keys in by_kind.items():
            _cancel_pending(kind, keys, now)
        if connection.vendor == "postgresql":
            ids = _insert_unnest(specs, now, soon)
        else:
            rows = [
                Deadline(
                    kind=spec.kind,
                    subject_key=spec.subject_key,
                    due_at=spec.due_at,
                    payload=spec.payload or {},
                    enqueued_at=now if spec.due_at <= soon else None,
                )
                for spec in specs
            ]
            ids = [d.pk for d in Deadline.objects.bulk_create(rows, batch_size=500)]
        soon_due = [spec.due_at for spec in specs if spec.due_at <= soon]
        if soon_due:
            transaction.on_commit(
                lambda: run_after_response(
                    lambda: _send_slots(soon_due), what=f"{len(soon_due)} deadline slots"
                ),
                robust=True,
            )
    return ids


def _cancel_pending(kind: str, keys: list[str], now: datetime) -> None:
    if connection.vendor == "postgresql":
        # One array parameter instead of 10,000 placeholders.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Deadline._meta.db_table} SET state = %s, cancelled_at = %s "  # nosec B608  # the table name is the model's own db_table; values are parameters
                "WHERE state = %s AND kind = %s AND subject_key = ANY(%s)",
                [DeadlineState.CANCELLED, now, DeadlineState.PENDING, kind, keys],
            )
        return
    for start in range(0, len(keys), 500):
        Deadline.objects.filter(
            kind=kind, subject_key__in=keys[start : start + 500], state=DeadlineState.PENDING
        ).update(state=DeadlineState.CANCELLED, cancelled_at=now)


def _insert_unnest(specs: list[DeadlineSpec], now: datetime, soon: datetime) -> list[int]:
    """PostgreSQL: one ``INSERT … SELECT FROM unnest(arrays)``; the ORM's per-value
    preparation would cost more than the insert itself at this size."""
    import json

    table = Deadline._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (kind, subject_key, due_at, state, token, payload, "  # nosec B608  # the table name is the model's own db_table; values are parameters
            "created_at, enqueued_at, attempts, last_error) "
            "SELECT k, s, d, %s, t, p::jsonb, %s, e, 0, '' "
            "FROM unnest(%s::varchar[], %s::varchar[], %s::timestamptz[], %s::uuid[], "
            "%s::text[], %s::timestamptz[]) WITH ORDINALITY AS u(k, s, d, t, p, e, n) "
            "ORDER BY n RETURNING id",
            [
                DeadlineState.PENDING,
                now,
                [spec.kind for spec in specs],
                [spec.subject_key for spec in specs],
                [spec.due_at for spec in specs],
                [uuid.uuid4() for _ in specs],
                [json.dumps(spec.payload or {}) for spec in specs],
                [now if spec.due_at <= soon else None for spec in specs],
            ],
        )
        return [row[0] for row in cursor.fetchall()]


def cancel_deadlines(*, kind: str | None = None, subject_key: str) -> int:
    """Cancel the pending deadline(s) of ``subject_key`` (of ``kind``, if given).

    Takes the same row lock as firing, inside the caller's transaction: if a firing holds
    it, this waits and then finds the deadline fired (returns 0). A task that arrives
    later finds it cancelled and does nothing. Returns how many were cancelled.
    """
    with transaction.atomic(savepoint=False):
        pending = Deadline.objects.filter(subject_key=subject_key, state=DeadlineState.PENDING)
        if kind is not None:
            pending = pending.filter(kind=kind)
        ids = list(_lock(pending, skip_locked=False).values_list("pk", flat=True))
        if not ids:
            return 0
        return Deadline.objects.filter(pk__in=ids, state=DeadlineState.PENDING).update(
            state=DeadlineState.CANCELLED, cancelled_at=timezone.now()
        )


# --- talking to the broker ------------------------------------------------------------------


#: While the broker is known to be down, this process stops trying (each attempt can block
#: for seconds in redis-py's reconnect backoff); the sweep fires what was not sent.
_broker_down_until = 0.0
BROKER_BACKOFF_SECONDS = 10.0


def _broker_usable() -> bool:
    return time.monotonic() >= _broker_down_until


def _broker_failed(what: str) -> None:
    global _broker_down_until
    _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
    logger.warning("could not enqueue %s; the sweep will fire it", what, exc_info=True)


def _send_on_commit(deadline_id: int, token: uuid.UUID, due_at: datetime) -> None:
    def send():
        if not _broker_usable():
            return
        try:
            current_app.send_task(FIRE_TASK, (deadline_id, str(token)), eta=due_at, retry=False)
        except Exception:  # broker down: the sweep fires it once it is overdue
            _broker_failed(f"deadline {deadline_id}")

    # The response does not wait for the broker (a hanging one costs seconds).
    transaction.on_commit(
        lambda: run_after_response(send, what=f"deadline {deadline_id}"), robust=True
    )


def _slot_ends(due_ats: list[datetime]) -> list[datetime]:
    """The distinct slot ends (due times rounded up) covering ``due_ats``."""
    if not due_ats:
        return []
    first, last = min(due_ats).timestamp(), max(due_ats).timestamp()
    width = max(slot_width().total_seconds(), (last - first) / max_slot_tasks(), 0.001)
    ends = {math.ceil(due_at.timestamp() / width) * width for due_at in due_ats}
    return [datetime.fromtimestamp(end, tz=UTC) for end in sorted(ends)]


def _send_slots(due_ats: list[datetime]) -> int:
    """One ``fire_due_deadlines`` task per slot end: it fires everything due by then."""
    slots = _slot_ends(due_ats)
    sent = 0
    if not _broker_usable():
        return 0
    try:
        with current_app.producer_or_acquire() as producer:
            for slot in slots:
                current_app.send_task(FIRE_DUE_TASK, eta=slot, producer=producer, retry=False)
                sent += 1
    except Exception:  # broker down: the sweep fires them once they are overdue
        _broker_failed(f"{len(slots) - sent} deadline slots")
    return sent


# --- firing -------------------------------------------------------------------------------------


class UnknownDeadlineKind(Exception):
    pass


class DeadlineBusy(Exception):
    """Raised by a handler when what it must lock is held by someone else (it must not
    wait: it already holds the deadline row, and waiting could deadlock). The firing rolls
    back, is not counted as a failure, and is tried again after ``BUSY_RETRY``."""


#: How soon a deadline whose handler was busy is tried again (by the sweep or a slot task).
BUSY_RETRY = timedelta(milliseconds=500)


def _record_busy(deadline_id: int) -> None:
    with transaction.atomic():
        Deadline.objects.filter(pk=deadline_id, state=DeadlineState.PENDING).update(
            last_attempt_at=timezone.now() - retry_delay() + BUSY_RETRY
        )


def _run(deadline: Deadline, now: datetime) -> None:
    """Mark ``deadline`` fired and run its handler. Called holding the row lock."""
    handler = HANDLERS.get(deadline.kind)
    if handler is None:
        raise UnknownDeadlineKind(f"no handler registered for deadline kind {deadline.kind!r}")
    deadline.state = DeadlineState.FIRED
    deadline.fired_at = now
    handler(deadline)
    _count_fired([deadline], now)


def _count_fired(deadlines: list[Deadline], now: datetime) -> None:
    """Their lateness into ``/metrics``, once the firing commits (never for a rollback)."""
    lateness = [(d.kind, (now - d.due_at).total_seconds()) for d in deadlines]
    transaction.on_commit(lambda: [observe_deadline_fired(k, s) for k, s in lateness])


def _record_failure(ids: list[int], exc: BaseException) -> None:
    logger.error("deadline handler failed for %s", ids, exc_info=exc)
    message = f"{type(exc).__name__}: {exc}"[:2000]
    with transaction.atomic():
        Deadline.objects.filter(pk__in=ids, state=DeadlineState.PENDING).update(
            attempts=F("attempts") + 1, last_attempt_at=timezone.now(), last_error=message
        )


def fire_deadline(deadline_id: int, token: str | uuid.UUID | None = None, *, skip_locked=False):
    """Fire one deadline if it is still pending, due, and (if given) still ``token``'s.

    Idempotent and safe to run concurrently with itself, the sweep and cancellation: the
    row lock serialises them and only the first to find it pending acts. Returns True if
    this call fired it. A failing handler leaves it pending with the error recorded.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            deadline = _lock(
                Deadline.objects.filter(pk=deadline_id, state=DeadlineState.PENDING),
                skip_locked=skip_locked,
            ).first()
            if deadline is None:
                return False
            if token is not None and str(deadline.token) != str(token):
                return False  # re-armed since this task was sent: a newer task owns it
            if deadline.due_at > now + EARLY_TOLERANCE:
                return False  # early (clock skew): the sweep or the newer task fires it
            Deadline.objects.filter(pk=deadline.pk).update(state=DeadlineState.FIRED, fired_at=now)
            _run(deadline, now)
        return True
    except DeadlineBusy:
        _record_busy(deadline_id)
        return False
    except Exception as exc:
        _record_failure([deadline_id], exc)
        return False


def _due(until: datetime, now: datetime):
    return Deadline.objects.filter(state=DeadlineState.PENDING, due_at__lte=until).filter(
        Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lte=now - retry_delay())
    )


def _is_time_limit(exc: BaseException) -> bool:
    """Celery's soft time limit: stop at once, do not retry inside the dying task."""
    return type(exc).__name__ == "SoftTimeLimitExceeded"


def fire_due_deadlines(
    *,
    until: datetime | None = None,
    batch_size: int = 500,
    budget_seconds: float = 30,
    batch_seconds: float | None = None,
) -> int:
    """Fire every pending deadline due by ``until`` (default: now), in batches.

    Each batch is one transaction: lock up to ``batch_size`` due rows (skipping rows
    another firer holds), mark them fired, run their handlers, commit. A batch stops
    after ``batch_seconds`` (``DEADLINE_BATCH_SECONDS``): the rows it did not reach go
    back to pending in the same transaction and the next batch is sized to what fit, so
    a slow handler never holds hundreds of rows or outlives the task's time limit. If any
    handler raises, the batch rolls back and its deadlines are fired one by one, each in
    its own transaction, so one bad deadline cannot hold up the others. Stops after
    ``budget_seconds``; what is left is the next task's or the sweep's. Returns how many
    fired.
    """
    if batch_seconds is None:
        batch_seconds = _setting("DEADLINE_BATCH_SECONDS", 2)
    started = time.monotonic()
    fired = 0
    size = batch_size
    while time.monotonic() - started < budget_seconds:
        now = timezone.now()
        cutoff = min(until, now) if until is not None else now
        ids: list[int] = []
        busy: list[Deadline] = []
        done = 0
        try:
            with transaction.atomic():
                batch = list(_lock(_due(cutoff, now).order_by("due_at"), skip_locked=True)[:size])
                ids = [d.pk for d in batch]
                if batch:
                    Deadline.objects.filter(pk__in=ids).update(
                        state=DeadlineState.FIRED, fired_at=now
                    )
                    batch_started = time.monotonic()
                    # Kinds with a batch handler first, one call per kind; then the rest
                    # one by one, until the batch's time is up.
                    bulk = [d for d in batch if d.kind in BATCH_HANDLERS]
                    single = [d for d in batch if d.kind not in BATCH_HANDLERS]
                    for kind in sorted({d.kind for d in bulk}):
                        group = [d for d in bulk if d.kind == kind]
                        for deadline in group:
                            deadline.state, deadline.fired_at = DeadlineState.FIRED, now
                        handed_back = {d.pk for d in BATCH_HANDLERS[kind](group) or ()}
                        busy += [d for d in group if d.pk in handed_back]
                        _count_fired([d for d in group if d.pk not in handed_back], now)
                        done += len(group)
                    if busy:  # what they must lock is held: pending again, retried soon
                        Deadline.objects.filter(pk__in=[d.pk for d in busy]).update(
                            state=DeadlineState.PENDING,
                            fired_at=None,
                            last_attempt_at=now - retry_delay() + BUSY_RETRY,
                        )
                    for deadline in single:
                        _run(deadline, now)  # at least one per batch: always progress
                        done += 1
                        if time.monotonic() - batch_started > batch_seconds:
                            break
                    if done < len(batch):  # out of time: hand the rest back, still locked
                        Deadline.objects.filter(
                            pk__in=[d.pk for d in single[done - len(bulk) :]]
                        ).update(state=DeadlineState.PENDING, fired_at=None)
            fired += done - len(busy)
        except Exception as exc:
            if not ids or _is_time_limit(exc):
                raise  # the database itself failed, or the task is out of time
            logger.warning("a deadline batch failed; firing its %d one by one", len(ids))
            for pk in ids:
                if time.monotonic() - started > budget_seconds:
                    break
                fired += fire_deadline(pk, skip_locked=True)
            continue
        if done < len(batch):
            size = max(10, done)
        elif len(batch) < size:
            break
    return fired


# --- the sweep and the watchdog ----------------------------------------------------------------

SWEEPER = "default"


def sweep(now: datetime | None = None) -> dict:
    """Fire lost deadlines, hand soon-due ones to the broker, record a heartbeat.

    Safe to run concurrently (rows are locked, skip-locked where possible) and as often
    as wanted; Celery beat runs it every ``DEADLINE_SWEEP_INTERVAL_SECONDS``.
    """
    started = time.monotonic()
    now = now or timezone.now()
    fired = fire_due_deadlines(until=now - rescue_grace())

    soon = now + horizon()
    with transaction.atomic():
        rows = list(
            _lock(
                Deadline.objects.filter(
                    state=DeadlineState.PENDING, enqueued_at__isnull=True, due_at__lte=soon
                ),
                skip_locked=True,
            ).values_list("pk", "due_at")[:20000]
        )
        if rows:
            Deadline.objects.filter(pk__in=[pk for pk, _ in rows]).update(enqueued_at=now)
            due_ats = [due_at for _, due_at in rows]
            transaction.on_commit(lambda: _send_slots(due_ats), robust=True)

    duration_ms = int((time.monotonic() - started) * 1000)
    SweepHeartbeat.objects.update_or_create(
        name=SWEEPER,
        defaults={
            "swept_at": timezone.now(),
            "enqueued": len(rows),
            "fired": fired,
            "duration_ms": duration_ms,
        },
    )
    return {"fired": fired, "enqueued": len(rows), "duration_ms": duration_ms}


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def engine_status(*, now: datetime | None = None, recent: int = 200) -> dict:
    """What the watchdog, ``/api/v1/deadlines/`` and ``deadlines_status`` report."""
    now = now or timezone.now()
    overdue_after = timedelta(seconds=_setting("DEADLINE_OVERDUE_ALERT_SECONDS", 30))
    stale_after = _setting("DEADLINE_SWEEP_STALE_SECONDS", 30)
    pending = Deadline.objects.filter(state=DeadlineState.PENDING)
    heartbeat = SweepHeartbeat.objects.filter(name=SWEEPER).first()
    sweep_age = (now - heartbeat.swept_at).total_seconds() if heartbeat else None
    oldest = pending.filter(due_at__lte=now).order_by("due_at").values_list("due_at", flat=True)
    oldest_due = oldest.first()
    lateness = [
        (fired_at - due_at).total_seconds()
        for fired_at, due_at in Deadline.objects.filter(state=DeadlineState.FIRED)
        .order_by("-fired_at")
        .values_list("fired_at", "due_at")[:recent]
    ]
    problems = []
    if heartbeat is None:
        problems.append("the deadline sweep has never run (is celery beat running?)")
    elif sweep_age > stale_after:
        problems.append(f"the deadline sweep last ran {sweep_age:.0f} s ago")
    overdue = pending.filter(due_at__lt=now - overdue_after).count()
    if overdue:
        problems.append(
            f"{overdue} pending deadline(s) overdue by more than "
            f"{overdue_after.total_seconds():.0f} s (is a worker consuming 'escalation'?)"
        )
    return {
        "ok": not problems,
        "problems": problems,
        "pending": pending.count(),
        "due_now": pending.filter(due_at__lte=now).count(),
        "overdue": overdue,
        "oldest_due_at": oldest_due.isoformat() if oldest_due else None,
        "failing": pending.filter(attempts__gt=0).count(),
        "sweep": {
            "last_at": heartbeat.swept_at.isoformat() if heartbeat else None,
            "age_seconds": round(sweep_age, 3) if sweep_age is not None else None,
            "stale": heartbeat is None or sweep_age > stale_after,
            "last_fired": heartbeat.fired if heartbeat else None,
            "last_enqueued": heartbeat.enqueued if heartbeat else None,
        },
        "recent_firings": {
            "count": len(lateness),
            "p50_lateness_seconds": _percentile(lateness, 0.5),
            "p99_lateness_seconds": _percentile(lateness, 0.99),
            "max_lateness_seconds": max(lateness) if lateness else None,
        },
    }


def collect_metrics() -> list:
    """Scrape-time figures for ``/metrics`` (``core.metrics.SCRAPE_COLLECTORS``): pending
    deadlines overdue by more than ``DEADLINE_OVERDUE_ALERT_SECONDS`` (one count on the
    ``(state, due_at)`` index) and the age of the sweep's heartbeat (one row)."""
    from prometheus_client.core import GaugeMetricFamily

    now = timezone.now()
    overdue_after = timedelta(seconds=_setting("DEADLINE_OVERDUE_ALERT_SECONDS", 30))
    overdue = Deadline.objects.filter(
        state=DeadlineState.PENDING, due_at__lt=now - overdue_after
    ).count()
    swept_at = (
        SweepHeartbeat.objects.filter(name=SWEEPER).values_list("swept_at", flat=True).first()
    )
    families = [
        GaugeMetricFamily(
            "crisis_deadlines_overdue",
            "Pending deadlines overdue by more than DEADLINE_OVERDUE_ALERT_SECONDS (read at "
            "scrape).",
            value=overdue,
        )
    ]
    if swept_at is not None:
        families.append(
            GaugeMetricFamily(
                "crisis_deadline_sweep_age_seconds",
                "Seconds since the deadline sweep last ran (read at scrape).",
                value=(now - swept_at).total_seconds(),
            )
        )
    return families


def check_health() -> str | None:
    """Readiness check (``core.health.EXTRA_CHECKS``): None, or what is wrong."""
    status = engine_status(recent=0)
    return None if status["ok"] else "; ".join(status["problems"])
