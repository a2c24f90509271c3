"""Telling desks things: a :class:`Notification` row per desk, a page to the people on
duty there, and a live prompt to the desk's consoles.

One helper for every sender (the escalation ladder's level actions here, the
``request_assistance`` handler in ``humanitarian``, failed line checks in ``hotline``):

- :func:`notify_desks` runs in the caller's transaction: the rows and the pages (their
  deliveries are deadlines) commit with the change they announce, or not at all; the
  ``notification.new`` event goes to each desk's group after commit.
- It is idempotent: a desk already told under the same page subject (or, without a
  page, of the same kind about the same crisis) is not told again, so a level entered
  again or a handler run twice adds nothing. Paging is idempotent per (desk, subject)
  too (``paging.services.page_desk``).
- :func:`mark_notification_read` is what ``POST /api/v1/notifications/{id}/read/`` and
  the console call: a member of the notification's desk marks it read (idempotent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import access_for
from core.errors import NotFound
from core.events import desk_group, publish_on_commit
from crisis.models import Crisis, Notification
from directory.models import Desk
from paging.services import page_desk

NEW_EVENT = "notification.new"
READ_EVENT = "notification.read"


@dataclass(frozen=True)
class PageSpec:
    """What to page each desk's people with (``body`` is built per desk: its zone)."""

    urgency: str
    kind: str
    subject_key: str
    body: Callable[[Desk], str]
    payload: dict | None = None
    #: Drill traffic without a crisis to say so (an exercise line's check); a page about
    #: an exercise crisis is exercise traffic whatever this says.
    exercise: bool = False
    #: Page these people of the desk (a task's assignee) instead of whoever is on duty.
    people: tuple | None = None


def notification_event(notification: Notification, type_: str = NEW_EVENT) -> dict:
    return {
        "type": type_,
        "notification": {
            "id": notification.pk,
            "desk": notification.desk_id,
            "kind": notification.kind,
            "title": notification.title,
            "link_path": notification.link_path,
            "urgency": (notification.payload or {}).get("urgency", ""),
        },
    }


def notify_desks(
    *,
    desks: Iterable[Desk],
    kind: str,
    title: str,
    crisis: Crisis | None = None,
    payload: dict | None = None,
    link_path: str = "",
    roles: Iterable[str] = (),
    page: PageSpec | None = None,
) -> list[Notification]:
    """Tell each desk ``title`` (and page its people on duty, if ``page``).

    Runs in the caller's transaction. Returns the notifications written (desks already
    told about this kind and subject are skipped).
    """
    desks = list(dict.fromkeys(desks))
    subject = page.subject_key if page else ""
    payload = dict(payload or {})
    if page:
        payload.setdefault("urgency", page.urgency)
    # A desk already told under this page subject (in any words: the level itself may
    # have told it) or, without a page, of this kind about this crisis, is not told again.
    earlier = Notification.objects.filter(desk__in=desks, crisis=crisis)
    earlier = earlier.filter(page_subject=subject) if subject else earlier.filter(kind=kind)
    told = set(earlier.values_list("desk_id", flat=True))
    fresh = [d for d in desks if d.pk not in told]
    if not fresh:
        return []
    with transaction.atomic():
        rows = Notification.objects.bulk_create(
            [
                Notification(
                    desk=desk,
                    crisis=crisis,
                    kind=kind,
                    title=title[:300],
                    payload=payload,
                    roles=list(roles),
                    link_path=link_path,
                    page_subject=subject,
                )
                for desk in fresh
            ]
        )
        if page:
            for desk in fresh:
                page_desk(
                    desk=desk,
                    urgency=page.urgency,
                    kind=page.kind,
                    subject_key=page.subject_key,
                    title=title,
                    body=page.body(desk),
                    link_path=link_path,
                    payload=page.payload,
                    exercise=page.exercise or bool(crisis is not None and crisis.exercise),
                    people=page.people,
                )
        for row in rows:
            publish_on_commit(desk_group(row.desk_id), notification_event(row))
    return rows


def mark_notification_read(*, by, notification_id: int) -> Notification:
    """A member of the notification's desk marks it read (for the whole desk: a desk's
    notifications are the desk's to-do list). Idempotent; hidden or missing is 404."""
    access = access_for(by)
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .filter(pk=notification_id, desk_id__in=access.desk_ids)
            .first()
        )
        if notification is None:
            raise NotFound(_("No such notification."))
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
            publish_on_commit(
                desk_group(notification.desk_id), notification_event(notification, READ_EVENT)
            )
        return notification


def mark_read_for_subject(*, desk: Desk, subject_key: str) -> int:
    """The page ``subject_key`` of ``desk`` was acknowledged: its notifications are read.
    For ack handlers (inside the acknowledging transaction). Returns how many changed."""
    return Notification.objects.filter(
        desk=desk, page_subject=subject_key, read_at__isnull=True
    ).update(read_at=timezone.now())
