"""Reads scoped to the caller: feed health for the regional centre and staff; the CAP
alerts we issued, on the crises the caller may see (``crisis.selectors``)."""

from __future__ import annotations

from django.db.models import QuerySet

from crisis.models import CapAlert, CapDirection
from crisis.selectors import crises_visible_to
from directory.access import Access
from feeds.models import CapFeed, FeedEntry


def sees_feed_health(access: Access) -> bool:
    """Coordinators, auditors (read-only), staff and superusers: the regional view."""
    return access.is_authenticated and (
        access.sees_all_states or bool(getattr(access.user, "is_staff", False))
    )


def feeds_visible_to(access: Access) -> QuerySet[CapFeed]:
    if not sees_feed_health(access):
        return CapFeed.objects.none()
    return CapFeed.objects.select_related("state", "desk")


def recent_entries(feed: CapFeed, *, limit: int = 20) -> QuerySet[FeedEntry]:
    return (
        FeedEntry.objects.filter(feed=feed)
        .select_related("crisis")
        .order_by("-seen_at", "-id")[:limit]
    )


def issued_alerts_visible_to(access: Access, *, state_id: int | None = None) -> QuerySet[CapAlert]:
    """The CAP alerts this service issued about crises the caller may see, newest first;
    with ``state_id``, only those about crises affecting that member state."""
    crises = crises_visible_to(access)
    if state_id is not None:
        crises = crises.filter(affected_states=state_id)
    return (
        CapAlert.objects.filter(direction=CapDirection.ISSUED, crisis__in=crises.values("pk"))
        .select_related("crisis")
        .order_by("-sent_at", "-id")
    )
