"""Reads of paging, scoped to the caller."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from directory.models import Role
from paging.models import ContactMethod, DeliveryAttempt, DeskWebhook, Page


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
            queryset=DeliveryAttempt.objects.select_related("recipient__user")
            .prefetch_related("tries_log")
            .order_by("due_at", "id"),
        )
    )


def webhooks_managed_by(access) -> QuerySet[DeskWebhook]:
    """Desk webhooks the caller manages: coordinators every desk's, supervisors their own
    desks' (nobody else sees them)."""
    if not access.is_authenticated:
        return DeskWebhook.objects.none()
    hooks = DeskWebhook.objects.select_related("desk")
    if access.is_coordinator:
        return hooks
    desk_ids = [m.desk_id for m in access.memberships if m.role == Role.SUPERVISOR]
    return hooks.filter(desk_id__in=desk_ids)


def webhook_deliveries(webhook: DeskWebhook) -> QuerySet[DeliveryAttempt]:
    """A webhook's posts, newest first, each with its log of tries."""
    return (
        DeliveryAttempt.objects.filter(webhook=webhook)
        .prefetch_related("tries_log")
        .order_by("-created_at", "-id")
    )
