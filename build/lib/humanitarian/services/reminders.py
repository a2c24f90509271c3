"""Reminders for pledges past their ETA and needs past their needed-by time.

Run periodically (Celery beat, ``humanitarian.tasks.send_reminders``): it scans the
database, so nothing is lost if a worker was down. Each reminder is a ``Reminder`` row
(unique per subject and due time) written in the same transaction as its timeline
entry, so a reminder is sent once even if two sweeps overlap; a new ETA can be reminded
again. When the crisis deadline engine lands, the same ``remind_*`` functions can be
registered as its handlers instead of being found by the sweep.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from crisis.services import timeline
from humanitarian.models import (
    LIVE_REQUEST_STATUSES,
    AssistanceRequest,
    Pledge,
    PledgeStatus,
    Reminder,
    ReminderKind,
)
from humanitarian.services._common import announce


def remind_pledge(*, pledge: Pledge, now: datetime) -> bool:
    """Remind both sides that ``pledge`` is past its ETA. False if already reminded."""
    try:
        with transaction.atomic():
            Reminder.objects.create(
                kind=ReminderKind.PLEDGE_PAST_ETA, pledge=pledge, due_at=pledge.eta
            )
            hours = round((now - pledge.eta).total_seconds() / 3600, 1)
            timeline.record(
                kind="assistance.reminder_pledge_past_eta",
                crisis=pledge.crisis,
                desk=pledge.pledging_desk,
                payload={"pledge_id": pledge.pk, "request_id": pledge.request_id,
                         "status": pledge.status, "eta": pledge.eta, "hours_late": hours},
            )  # fmt: skip
            announce(
                pledge.crisis,
                {"type": "assistance.reminder", "kind": ReminderKind.PLEDGE_PAST_ETA,
                 "pledge_id": pledge.pk},
                pledge.pledging_desk_id,
                pledge.request.requesting_desk_id if pledge.request_id else None,
            )  # fmt: skip
    except IntegrityError:
        return False
    return True


def remind_need(*, request: AssistanceRequest, now: datetime) -> bool:
    """Remind the crisis's desks that a need is past needed-by and not delivered."""
    try:
        with transaction.atomic():
            Reminder.objects.create(
                kind=ReminderKind.NEED_PAST_DUE, request=request, due_at=request.needed_by
            )
            timeline.record(
                kind="assistance.reminder_need_past_due",
                crisis=request.crisis,
                desk=request.requesting_desk,
                payload={"request_id": request.pk, "needed_by": request.needed_by,
                         "quantity": request.quantity, "accepted": request.quantity_accepted,
                         "delivered": request.quantity_delivered, "status": request.status},
            )  # fmt: skip
            announce(
                request.crisis,
                {"type": "assistance.reminder", "kind": ReminderKind.NEED_PAST_DUE,
                 "request_id": request.pk},
                request.requesting_desk_id,
            )  # fmt: skip
    except IntegrityError:
        return False
    return True


def send_due_reminders(*, now: datetime | None = None) -> dict:
    """Send every reminder that is due and not yet sent. Idempotent; returns counts."""
    now = now or timezone.now()
    sent = {"pledges": 0, "needs": 0}
    pledges = (
        Pledge.objects.filter(
            status__in=[PledgeStatus.ACCEPTED, PledgeStatus.DISPATCHED],
            eta__lt=now,
            request__isnull=False,
        )
        .exclude(
            Exists(
                Reminder.objects.filter(
                    pledge=OuterRef("pk"), kind=ReminderKind.PLEDGE_PAST_ETA, due_at=OuterRef("eta")
                )
            )
        )
        .select_related("crisis", "pledging_desk", "request")
    )
    for pledge in pledges.iterator(chunk_size=200):
        sent["pledges"] += remind_pledge(pledge=pledge, now=now)
    needs = (
        AssistanceRequest.objects.filter(status__in=LIVE_REQUEST_STATUSES, needed_by__lt=now)
        .exclude(
            Exists(
                Reminder.objects.filter(
                    request=OuterRef("pk"),
                    kind=ReminderKind.NEED_PAST_DUE,
                    due_at=OuterRef("needed_by"),
                )
            )
        )
        .select_related("crisis", "requesting_desk")
    )
    for req in needs.iterator(chunk_size=200):
        if req.quantity_delivered < req.quantity:
            sent["needs"] += remind_need(request=req, now=now)
    return sent
