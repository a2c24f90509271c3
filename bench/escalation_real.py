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
    from bench.crises import publish_in_place
    from crisis.models import EscalationLevel, Protocol, ProtocolVersion
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
        publish_in_place(version)
    return desk, version


def run(n: int, label: str, lead: float, window: float, summarize, wait_until) -> dict:
    from django.db.models import Count
    from django.utils import timezone

    from bench.crises import arm_level_one_expiry, crises_at_level_one
    from crisis.models import TimelineEntry

    desk, version = _fixtures()
    tag = f"{int(time.time()) % 100000:05d}"
    crises = crises_at_level_one(n, reference=f"B{tag}", desk=desk, version=version)
    start = timezone.now() + timedelta(seconds=lead)
    due = {c.pk: start + timedelta(seconds=window * i / n) for i, c in enumerate(crises)}
    arm_s = arm_level_one_expiry(due)

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
