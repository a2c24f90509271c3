"""A crisis in state A with state B supporting; state C is a third state (not party)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crisis.models import Crisis, CrisisParticipant, ParticipantRole
from humanitarian.services import assistance


def make_crisis(region, *, ref="CR-2026-0100", status="active", affected=None, supporting=None):
    crisis = Crisis.objects.create(
        reference=ref,
        title="Ferry capsized off the coast",
        category="maritime",
        severity=3,
        status=status,
        reported_by_desk=region.desk_a,
        lead_desk=region.desk_a,
    )
    crisis.affected_states.set(affected if affected is not None else [region.state_a])
    CrisisParticipant.objects.create(crisis=crisis, desk=region.desk_a, role=ParticipantRole.LEAD)
    for desk in supporting if supporting is not None else [region.desk_b]:
        CrisisParticipant.objects.create(crisis=crisis, desk=desk, role=ParticipantRole.SUPPORTING)
    return crisis


def make_request(region, crisis, *, by=None, submit=True, quantity=100, item="family_tent",
                 sector="shelter", needed_in_hours=48, **extra):  # fmt: skip
    return assistance.create_request(
        by=by or region.operator_a,
        desk=region.desk_a,
        crisis=crisis,
        sector=sector,
        item=item,
        quantity=quantity,
        needed_by=timezone.now() + timedelta(hours=needed_in_hours),
        submit=submit,
        **extra,
    )


def make_pledge(region, req, *, quantity=40, by=None, desk=None, **extra):
    return assistance.make_pledge(
        by=by or region.operator_b,
        desk=desk or region.desk_b,
        request_id=req.pk,
        quantity=quantity,
        eta=timezone.now() + timedelta(hours=24),
        **extra,
    )


@pytest.fixture
def crisis(region):
    return make_crisis(region)
