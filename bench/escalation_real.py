"""The benchmark's third way: the real crisis-escalation handler under the same load.

N crises sit at level 1 of a two-level ladder; their level-1 deadlines are armed in one
``schedule_deadlines_bulk`` call, due over the window. Each firing runs the real handler:
lock the crisis (NOWAIT), record ``level_expired``, enter level 2 (notification row, push
to the desk's channel-layer group, next deadline armed an hour out), record
``level_entered`` — two hash-chained timeline appends. Fired and duplicates are counted
from ``level_expired`` timeline entries; lateness is the entry's time minus the due time.
"""

from __future__ import annotations

import time
from datetime import timedelta


def _fixtures():
    from django.utils import timezone

    from crisis.models import EscalationLevel, Protocol, ProtocolVersion, VersionStatus
    from directory.models import Desk, DeskKind, MemberState

    state, _ = MemberState.objects.get_or_create(code="ZZB", defaults={"name": "Bench state"})
    desk, _ = Desk.objects.get_or_create(
        code="ZZB-BENCH",
        defaults={"name": "Bench desk", "kind": DeskKind.NATIONAL, "state": state},
    )
    protocol, _ = Protocol.objects.get_or_create(
        name="Bench protocol", defaults={"category": "other"}
    )
    version, created = ProtocolVersion.objects.get_or_create(protocol=protocol, number=1)
    if created:
        # Levels go into a draft (a published version is immutable), then it is published
        # in place: the bench measures firing, not the authoring rules publishing checks.
        for order, timeout in ((1, 60), (2, 3600)):
            level = EscalationLevel.objects.create(
                version=version, order=order, name=f"Level {order}", timeout_seconds=timeout
            )
            level.notify_desks.add(desk)
        ProtocolVersion.objects.filter(pk=version.pk).update(
            status=VersionStatus.PUBLISHED, published_at=timezone.now()
        )
        version.refresh_from_db()
    return desk, version


def run(n: int, label: str, lead: float, window: float, summarize, wait_until) -> dict:
    from django.db import transaction
    from django.db.models import Count
    from django.utils import timezone

    from crisis.models import Crisis, CrisisStatus, EscalationState, TimelineEntry
    from crisis.services.escalation import DEADLINE_KIND, deadline_subject
    from crisis.services.protocols import snapshot_of
    from deadlines.services import DeadlineSpec, schedule_deadlines_bulk

    desk, version = _fixtures()
    snapshot = snapshot_of(version)
    tag = f"{int(time.time()) % 100000:05d}"
    now = timezone.now()
    crises = Crisis.objects.bulk_create(
        [
            Crisis(
                reference=f"B{tag}-{i}",
                title=f"Bench crisis {i}",
                category="other",
                severity=2,
                status=CrisisStatus.ACTIVE,
                reported_by_desk=desk,
                lead_desk=desk,
                protocol_version=version,
                protocol_snapshot=snapshot,
                escalation_state=EscalationState.ESCALATING,
                current_level=1,
                level_entered_at=now,
                activated_at=now,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    start = timezone.now() + timedelta(seconds=lead)
    due = {c.pk: start + timedelta(seconds=window * i / n) for i, c in enumerate(crises)}
    specs = [
        DeadlineSpec(
            DEADLINE_KIND,
            deadline_subject(pk),
            due_at,
            {"crisis_id": pk, "phase": "level", "level": 1, "round": 0},
        )
        for pk, due_at in due.items()
    ]
    t0 = time.perf_counter()
    with transaction.atomic():
        schedule_deadlines_bulk(specs)
    arm_s = time.perf_counter() - t0

    expired = TimelineEntry.objects.filter(crisis_id__in=list(due), kind="level_expired")
    end = (start - timezone.now()).total_seconds() + window
    wait_until(lambda: expired.values("crisis_id").distinct().count() >= n, end + max(120, n / 20))
    time.sleep(1.0)
    counts = dict(expired.values_list("crisis_id").annotate(c=Count("id")))
    lateness = [
        (at - due[crisis_id]).total_seconds()
        for crisis_id, at in expired.values_list("crisis_id", "at")
    ]
    return summarize(n, arm_s, counts, lateness)
