"""What the humanitarian tests share: a crisis in state A with state B supporting (state C
is a third state, not party), one factory per record, and the sample DTM file.

Factories act through the services as the usual person (A requests, B pledges), so what
they make is what the product would make; keyword arguments override.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crisis.models import Crisis, CrisisParticipant, ParticipantRole
from humanitarian.models import AssetKind, StandbyAsset
from humanitarian.services import assistance, displacement, shelters

API = "/api/v1/humanitarian"

#: An HXL-tagged DTM file of three areas of state A (4 500 IDPs, 190 refugees); row 4 is
#: the Bay area (800 IDPs), the row tests break.
HXL_FILE = "\n".join(
    [
        "Country code,Country,Admin 1,Admin 1 code,Admin 2,Admin 2 code,Reporting date,Round,"
        "Assessment type,IDPs (individuals),Refugees (individuals),Source",
        "#country+code,#country+name,#adm1+name,#adm1+code,#adm2+name,#adm2+code,"
        "#date+reported,#meta+round,#meta+assessment,#affected+idps+ind,"
        "#affected+refugees+ind,#meta+source",
        "AAA,State A,Coast,AA-01,Harbour,AA-01-01,2025-11-20,1,baseline,1200,0,IOM DTM",
        "AAA,State A,Coast,AA-01,Bay,AA-01-02,2025-11-20,1,site,800,150,IOM DTM",
        'AAA,State A,Hills,AA-02,,,2025-11-21,1,baseline,"2,500",40,IOM DTM',
        "",
    ]
)


def make_crisis(region, *, ref="CR-2026-0100", status="active", affected=None, supporting=None,
                exercise=False):  # fmt: skip
    crisis = Crisis.objects.create(
        exercise=exercise,
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


def make_offer(region, crisis, *, quantity, item="family_tent", sector="shelter", by=None,
               desk=None):  # fmt: skip
    """A standalone offer of capacity (a pledge with no request), by B unless told."""
    return assistance.offer_capacity(
        by=by or region.operator_b,
        desk=desk or region.desk_b,
        crisis=crisis,
        sector=sector,
        item=item,
        quantity=quantity,
    )


def make_asset(state, desk, name, *, item="usar_team", sector="sar", unit="team", capacity=1,
               readiness_hours=12, kind=AssetKind.SAR_TEAM, available=True):  # fmt: skip
    """A standby asset (the register is edited in the admin, so no service makes one)."""
    return StandbyAsset.objects.create(
        state=state, desk=desk, name=name, kind=kind, sector=sector, item=item, unit=unit,
        capacity=capacity, readiness_hours=readiness_hours, is_available=available,
    )  # fmt: skip


def make_shelter(region, crisis, *, name="School", capacity=100, **extra):
    """A shelter managed by state A's desk."""
    return shelters.register_shelter(
        by=region.operator_a, desk=region.desk_a, crisis=crisis, name=name, capacity=capacity,
        **extra,
    )  # fmt: skip


def import_displacement(region, crisis, content=HXL_FILE):
    """Displacement figures for ``crisis``, imported by state A's desk (small: inline)."""
    return displacement.start_import(
        by=region.operator_a, desk=region.desk_a, crisis=crisis, content=content
    )


def upload(api_client, crisis, text, name="dtm.csv"):
    """Post ``text`` as a CSV file to the import endpoint, as the client's user."""
    return api_client.post(
        f"{API}/displacement/imports/",
        {"crisis": crisis.pk, "file": SimpleUploadedFile(name, text.encode(), "text/csv")},
        format="multipart",
    )


@pytest.fixture
def crisis(region):
    return make_crisis(region)
