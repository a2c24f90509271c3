"""What the crisis benches share: a scratch database, a ladder published in place, crises
waiting at level 1, and their level-1 deadlines armed in one bulk call (the real
escalation handler fires them). Imported after ``django.setup()``."""

from __future__ import annotations

import sys
import time
from datetime import datetime


def open_scratch_database() -> str | None:
    """Create and migrate ``bench_<name>`` beside DATABASE_URL's database and use it;
    returns the original name (for :func:`drop_scratch_database`), or None (with a
    message) when DATABASE_URL is not PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        print("The benchmark runs on PostgreSQL: set DATABASE_URL.", file=sys.stderr)
        return None
    original_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_{original_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return original_name


def drop_scratch_database(original_name: str) -> None:
    from django.db import connection

    connection.creation.destroy_test_db(original_name, verbosity=0)


def publish_in_place(version) -> None:
    """Publish a draft whose levels were just added, without the authoring checks (a
    published version is immutable, so levels go in first): the benches measure firing
    and paging, not publishing."""
    from django.utils import timezone

    from crisis.models import ProtocolVersion, VersionStatus

    ProtocolVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.PUBLISHED, published_at=timezone.now()
    )
    version.refresh_from_db()


def crises_at_level_one(n: int, *, reference: str, desk, version) -> list:
    """``n`` active crises at level 1 of ``version``, reported and led by ``desk``."""
    from django.utils import timezone

    from crisis.models import Crisis, CrisisStatus, EscalationState
    from crisis.services.protocols import snapshot_of

    snapshot = snapshot_of(version)
    now = timezone.now()
    return Crisis.objects.bulk_create(
        [
            Crisis(
                reference=f"{reference}-{i}",
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


def arm_level_one_expiry(due: dict[int, datetime]) -> float:
    """Arm each crisis's level-1 deadline (crisis id -> due time) in one bulk call, as
    the escalation engine would; returns the seconds it took."""
    from django.db import transaction

    from crisis.services.escalation import DEADLINE_KIND, deadline_subject
    from deadlines.services import DeadlineSpec, schedule_deadlines_bulk

    specs = [
        DeadlineSpec(
            DEADLINE_KIND,
            deadline_subject(pk),
            due_at,
            {"crisis_id": pk, "phase": "level", "level": 1, "round": 0},
        )
        for pk, due_at in due.items()
    ]
    started = time.perf_counter()
    with transaction.atomic():
        schedule_deadlines_bulk(specs)
    return time.perf_counter() - started


def open_requests_with_pledges(n: int, *, crisis_for, desk_for) -> None:
    """``n`` open assistance requests, each with one pledge, bulk-written (the benches
    measure reading and exporting aid, not its workflow). ``crisis_for(i)`` names the
    crisis id of request ``i``; ``desk_for(i)`` a desk (the request's is ``desk_for(i)``,
    its pledge's ``desk_for(i + 1)``)."""
    from datetime import timedelta

    from django.utils import timezone

    from humanitarian.models import AssistanceRequest, Pledge
    from humanitarian.models.catalogue import ITEMS

    items, now = list(ITEMS.values()), timezone.now()
    requests = AssistanceRequest.objects.bulk_create(
        [
            AssistanceRequest(
                crisis_id=crisis_for(i),
                state_id=desk_for(i).state_id,
                requesting_desk=desk_for(i),
                sector=items[i % len(items)].sector,
                item=items[i % len(items)].code,
                unit=items[i % len(items)].unit,
                quantity=100 + i % 400,
                admin1_code=f"{desk_for(i).state.code[:2]}-{i % 77 + 1:02d}",
                needed_by=now + timedelta(days=1 + i % 10),
                status="open",
                opened_at=now,
            )
            for i in range(n)
        ],
        batch_size=5000,
    )
    Pledge.objects.bulk_create(
        [
            Pledge(
                crisis_id=r.crisis_id,
                request=r,
                pledging_desk=desk_for(i + 1),
                state_id=desk_for(i + 1).state_id,
                sector=r.sector,
                item=r.item,
                unit=r.unit,
                quantity=10 + i % 50,
                quantity_available=10 + i % 50,
            )
            for i, r in enumerate(requests)
        ],
        batch_size=5000,
    )
