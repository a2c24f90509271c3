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
