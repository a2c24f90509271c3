"""Reads of protocols, scoped to the caller (kept apart from ``crisis.selectors`` so the
protocol and crisis areas can grow separately; same rules: views start here).

Protocols are shared rules of the region: every signed-in person reads the published and
retired versions. Drafts are work in progress: only protocol authors see them.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from crisis.models import ChecklistItem, EscalationLevel, Protocol, ProtocolVersion, VersionStatus
from crisis.services.protocols import is_author
from directory.access import Access


def _versions_visible_to(access: Access) -> QuerySet[ProtocolVersion]:
    versions = ProtocolVersion.objects.all()
    if not is_author(access.user):
        versions = versions.exclude(status=VersionStatus.DRAFT)
    return versions


def protocols_visible_to(access: Access) -> QuerySet[Protocol]:
    """Protocols with their published version prefetched (``published_versions``)."""
    if not access.is_authenticated:
        return Protocol.objects.none()
    published = ProtocolVersion.objects.filter(status=VersionStatus.PUBLISHED)
    return (
        Protocol.objects.annotate(version_count=Count("versions", filter=_count_filter(access)))
        .prefetch_related(Prefetch("versions", queryset=published, to_attr="published_versions"))
        .order_by("name", "pk")
    )


def _count_filter(access: Access):
    from django.db.models import Q

    return Q() if is_author(access.user) else ~Q(versions__status=VersionStatus.DRAFT)


def protocol_versions_visible_to(
    access: Access, *, protocol_id: int | None = None
) -> QuerySet[ProtocolVersion]:
    """Versions with their ladder (and desks) and checklist prefetched, newest first."""
    if not access.is_authenticated:
        return ProtocolVersion.objects.none()
    versions = _versions_visible_to(access).select_related("protocol", "created_from")
    if protocol_id is not None:
        versions = versions.filter(protocol_id=protocol_id)
    return versions.prefetch_related(
        Prefetch(
            "levels",
            queryset=EscalationLevel.objects.prefetch_related("notify_desks").order_by("order"),
        ),
        Prefetch("checklist", queryset=ChecklistItem.objects.order_by("order")),
    ).order_by("-number")


def protocol_detail_queryset(access: Access) -> QuerySet[Protocol]:
    """Protocols with every visible version, ladder and checklist prefetched."""
    return protocols_visible_to(access).prefetch_related(
        Prefetch(
            "versions", queryset=protocol_versions_visible_to(access), to_attr="shown_versions"
        )
    )
