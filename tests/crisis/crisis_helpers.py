"""Helpers for the crisis lifecycle tests: a tiny published protocol, reporting shortcuts."""

from __future__ import annotations

from django.utils import timezone

from crisis.models import (
    ChecklistItem,
    EscalationLevel,
    Protocol,
    ProtocolVersion,
    TimelineEntry,
    VersionStatus,
)
from crisis.services import crises as services


def make_protocol(category: str = "maritime", *, number: int = 1, levels=None) -> ProtocolVersion:
    protocol, _ = Protocol.objects.get_or_create(
        name=f"{category.title()} protocol", defaults={"category": category}
    )
    version = ProtocolVersion.objects.create(
        protocol=protocol,
        number=number,
        status=VersionStatus.DRAFT,
        repeat_last_level=True,
        max_repeats=2,
    )
    for order, (name, timeout, scopes, roles) in enumerate(
        levels
        or [
            ("Affected states' operators", 300, ["affected"], ["operator"]),
            ("Their supervisors", 600, ["affected"], ["supervisor"]),
            ("Regional centre and every state", 900, ["regional", "all_states"], ["coordinator"]),
        ],
        start=1,
    ):
        EscalationLevel.objects.create(
            version=version,
            order=order,
            name=name,
            timeout_seconds=timeout,
            notify_scopes=scopes,
            notify_roles=roles,
        )
    ChecklistItem.objects.create(
        version=version,
        order=1,
        party_role="all",
        title="Confirm focal point",
        due_after_minutes=30,
    )
    ChecklistItem.objects.create(
        version=version,
        order=2,
        party_role="lead",
        title="Send initial report (SASOP Form 1)",
        due_after_minutes=120,
    )
    ChecklistItem.objects.create(
        version=version,
        order=3,
        party_role="affected",
        title="Report affected areas",
        due_after_minutes=240,
    )
    # Published versions are frozen, so fill the draft first, then publish it in place.
    ProtocolVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.PUBLISHED, published_at=timezone.now()
    )
    version.refresh_from_db()
    return version


def report(region, **overrides):
    values = {
        "by": region.operator_a,
        "desk": region.desk_a,
        "category": "maritime",
        "title": "Tanker and fishing vessel collide",
        "severity": 3,
        "affected_state_codes": ["AAA", "BBB"],
        "description": "Collision at 04:10 local time.",
        "latitude": "6.12",
        "longitude": "99.45",
        "admin_area": "AA-91 Coast",
    }
    values.update(overrides)
    return services.report_crisis(**values)


def activate(region, crisis):
    return services.transition_crisis(
        by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="active"
    )


def kinds(crisis) -> list[str]:
    return list(
        TimelineEntry.objects.filter(crisis=crisis).order_by("seq").values_list("kind", flat=True)
    )
