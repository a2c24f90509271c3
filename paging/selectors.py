"""Reads of paging, scoped to the caller."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from paging.models import ContactMethod, DeliveryAttempt, Page


def contact_methods_of(user) -> QuerySet[ContactMethod]:
    """A person sees and manages only their own contact methods."""
    if not getattr(user, "is_authenticated", False):
        return ContactMethod.objects.none()
    return ContactMethod.objects.filter(user=user).order_by("position", "id")


def pages_visible_to(access) -> QuerySet[Page]:
    """Pages of the caller's own desks (coordinators and auditors: every desk's), newest
    first, with their recipients and attempts."""
    if not access.is_authenticated:
        return Page.objects.none()
    pages = Page.objects.all()
    if not access.sees_all_states:
        pages = pages.filter(desk_id__in=access.desk_ids)
    return pages.select_related("desk", "acknowledged_by").prefetch_related(
        Prefetch(
            "attempts",
            queryset=DeliveryAttempt.objects.select_related("recipient__user").order_by(
                "due_at", "id"
            ),
        )
    )
