"""Reads scoped to the caller. Views start here, never from ``Model.objects``."""

from __future__ import annotations

from django.db.models import QuerySet

from core.disclosure import is_narrow, may_see, visible_q
from crisis.models import Crisis, Notification, SituationUpdate
from directory.access import Access
from paging.selectors import pages_visible_to


def crises_visible_to(access: Access) -> QuerySet[Crisis]:
    """Crises the caller may know exist.

    Coordinators and auditors see all. A national desk's people see the crises their
    state reported or is affected by, and those their desk takes part in.
    """
    if not access.is_authenticated:
        return Crisis.objects.none()
    crises = Crisis.objects.select_related("lead_desk", "reported_by_desk", "protocol_version")
    if access.sees_all_states:
        return crises
    state_ids, desk_ids = access.state_ids, access.desk_ids
    # .order_by(): SQLite refuses ORDER BY (the model's default ordering) inside a UNION.
    visible_ids = (
        Crisis.objects.filter(reported_by_desk__state_id__in=state_ids)
        .order_by()
        .values("pk")
        .union(
            Crisis.objects.filter(affected_states__in=state_ids).order_by().values("pk"),
            Crisis.objects.filter(participants__desk_id__in=desk_ids).order_by().values("pk"),
        )
    )
    return crises.filter(pk__in=visible_ids)


def is_party_to(access: Access, crisis: Crisis) -> bool:
    """Whether one of the caller's states is affected by, or desks take part in, ``crisis``."""
    if crisis.affected_states.filter(pk__in=access.state_ids).exists():
        return True
    return crisis.participants.filter(desk_id__in=access.desk_ids).exists()


# --- the notification centre ---------------------------------------------------------------


def notifications_for(access, *, unread: bool = False):
    """Notifications of the caller's own desks, newest first (``unread``: not yet read)."""
    if not access.is_authenticated:
        return Notification.objects.none()
    rows = Notification.objects.filter(desk_id__in=access.desk_ids)
    if unread:
        rows = rows.filter(read_at__isnull=True)
    return rows.select_related("desk", "crisis").order_by("-created_at", "-id")


def pages_of_notifications(access, notifications) -> dict:
    """The page that went with each notification (with its delivery attempts: who, how,
    when, outcome), by notification id; read through paging's caller-scoped selector."""
    wanted = {(n.desk_id, n.page_subject): n.pk for n in notifications if n.page_subject}
    if not wanted:
        return {}
    pages = pages_visible_to(access).filter(
        desk_id__in={desk for desk, _ in wanted}, subject_key__in={s for _, s in wanted}
    )
    return {
        wanted[(page.desk_id, page.subject_key)]: page
        for page in pages
        if (page.desk_id, page.subject_key) in wanted
    }


def update_marking_q(access: Access):
    """Filter on ``SituationUpdate``: those whose TLP marking lets ``access`` see them."""
    return visible_q(access, SituationUpdate.recipient_desks.through, owner_field="situationupdate")


def updates_of(access: Access, crisis: Crisis) -> QuerySet[SituationUpdate]:
    """A crisis's situation updates the caller may see (the crisis already is), newest
    first: RED ones only for the desks that were party when it was posted,
    AMBER+STRICT ones for those desks' organisations (``core.disclosure``)."""
    return (
        crisis.situation_updates.filter(update_marking_q(access))
        .select_related("desk", "author")
        .order_by("-posted_at", "-id")
    )


def update_visible_to(access: Access, update: SituationUpdate) -> bool:
    recipients = (
        [(d.pk, d.state_id) for d in update.recipient_desks.all()] if is_narrow(update.tlp) else ()
    )
    return may_see(access, tlp=update.tlp, recipients=recipients)
