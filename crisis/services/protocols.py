"""Published protocol versions and their snapshots (minimal; the protocol area owns this)."""

from __future__ import annotations

from crisis.models import ProtocolVersion, VersionStatus


def published_version_for(category: str) -> ProtocolVersion | None:
    """The published version of the protocol for ``category`` (newest if several)."""
    return (
        ProtocolVersion.objects.filter(protocol__category=category, status=VersionStatus.PUBLISHED)
        .select_related("protocol")
        .order_by("-published_at", "-id")
        .first()
    )


def snapshot_of(version: ProtocolVersion) -> dict:
    """A self-contained copy of ``version``'s ladder and checklist, as bound to a crisis."""
    return {
        "protocol_id": version.protocol_id,
        "protocol_name": version.protocol.name,
        "version_id": version.pk,
        "version_number": version.number,
        "repeat_last_level": version.repeat_last_level,
        "max_repeats": version.max_repeats,
        "ack_timeout_seconds": version.ack_timeout_seconds,
        "levels": [
            {
                "order": level.order,
                "name": level.name,
                "timeout_seconds": level.timeout_seconds,
                "notify_scopes": list(level.notify_scopes),
                "notify_roles": list(level.notify_roles),
                "notify_desk_ids": sorted(d.pk for d in level.notify_desks.all()),
                "actions": list(level.actions),
            }
            for level in version.levels.order_by("order").prefetch_related("notify_desks")
        ],
        "checklist": [
            {
                "order": item.order,
                "party_role": item.party_role,
                "title": item.title,
                "description": item.description,
                "due_after_minutes": item.due_after_minutes,
            }
            for item in version.checklist.order_by("order")
        ],
    }
