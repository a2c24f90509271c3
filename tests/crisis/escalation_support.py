"""Building protocols and running crises for the escalation tests and the benchmark."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from crisis.models import (
    Crisis,
    CrisisParticipant,
    CrisisStatus,
    EscalationLevel,
    ParticipantRole,
    Protocol,
    ProtocolVersion,
    VersionStatus,
)
from crisis.services.escalation import DEADLINE_KIND, deadline_subject, start_escalation
from crisis.services.protocols import snapshot_of
from deadlines.models import Deadline
from deadlines.services import fire_due_deadlines

_seq = itertools.count(1)

AFFECTED = {"name": "Affected states", "timeout_seconds": 600, "notify_scopes": ["affected"]}
REGION = {
    "name": "Region",
    "timeout_seconds": 900,
    "notify_scopes": ["regional", "all_states"],
    "notify_roles": ["supervisor", "coordinator"],
}


def make_protocol(levels=(AFFECTED, REGION), **version) -> ProtocolVersion:
    n = next(_seq)
    protocol = Protocol.objects.create(name=f"Protocol {n}", category="maritime")
    published = ProtocolVersion.objects.create(
        protocol=protocol, number=1, status=VersionStatus.DRAFT, **version
    )
    for order, level in enumerate(levels, start=1):
        EscalationLevel.objects.create(version=published, order=order, **level)
    # Published versions are frozen: fill the draft, then publish it in place.
    ProtocolVersion.objects.filter(pk=published.pk).update(
        status=VersionStatus.PUBLISHED, published_at=timezone.now()
    )
    published.refresh_from_db()
    return published


def make_crisis(region, version: ProtocolVersion, *, start: bool = True) -> Crisis:
    n = next(_seq)
    crisis = Crisis.objects.create(
        reference=f"CR-T-{n:05d}",
        title=f"Test crisis {n}",
        category="maritime",
        severity=3,
        status=CrisisStatus.ACTIVE,
        reported_by_desk=region.desk_a,
        lead_desk=region.desk_a,
        protocol_version=version,
        protocol_snapshot=snapshot_of(version),
        activated_at=timezone.now(),
    )
    crisis.affected_states.add(region.state_a)
    CrisisParticipant.objects.create(crisis=crisis, desk=region.desk_a, role=ParticipantRole.LEAD)
    if start:
        with transaction.atomic():
            locked = Crisis.objects.select_for_update().get(pk=crisis.pk)
            start_escalation(crisis=locked)
        crisis.refresh_from_db()
    return crisis


def pending_deadline(crisis: Crisis) -> Deadline | None:
    return Deadline.objects.filter(
        kind=DEADLINE_KIND, subject_key=deadline_subject(crisis), state="pending"
    ).first()


def expire(crisis: Crisis) -> int:
    """Make the crisis's pending deadline due now and fire what is due."""
    Deadline.objects.filter(
        kind=DEADLINE_KIND, subject_key=deadline_subject(crisis), state="pending"
    ).update(due_at=timezone.now() - timedelta(seconds=1))
    fired = fire_due_deadlines()
    crisis.refresh_from_db()
    return fired
