"""Demo data: a standby register for the region, and assistance for the demo crisis.

Uses the crisis app's demo crisis (a maritime one, or the first ``CR-`` crisis) when there
is one; otherwise creates a small crisis of its own so the humanitarian demo stands
alone. Everything goes through the services (so the crisis timeline tells the story).
Idempotent: the standby register is updated in place, and the assistance story is only
written once per crisis (it is recognised by its ``[demo]`` notes).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crisis.models import Crisis, CrisisParticipant, ParticipantRole
from directory.models import AgencyType, Desk, MemberState
from humanitarian.models import (
    ITEMS,
    AssetKind,
    AssistanceRequest,
    DisplacementReport,
    Shelter,
    StandbyAsset,
)
from humanitarian.services import assistance, displacement, shelters
from humanitarian.services._common import WORKING_CRISIS_STATUSES

DEMO_TAG = "[demo]"
OWN_REFERENCE = "CR-DEMO-HUM"

#: (state, name, kind, item, capacity, readiness hours, location)
STANDBY = [
    (
        "SGP",
        "SCDF Operation Lionheart USAR team",
        AssetKind.SAR_TEAM,
        "usar_team",
        1,
        6,
        "Singapore",
    ),
    ("MYS", "SMART heavy USAR team", AssetKind.SAR_TEAM, "usar_team", 1, 12, "Kuala Lumpur"),
    (
        "IDN",
        "Basarnas maritime SAR vessels",
        AssetKind.MILITARY_ASSET,
        "maritime_sar_unit",
        3,
        8,
        "Batam",
    ),
    (
        "THA",
        "Royal Thai Navy SAR vessels",
        AssetKind.MILITARY_ASSET,
        "maritime_sar_unit",
        2,
        12,
        "Sattahip",
    ),
    (
        "THA",
        "DDPM relief stockpile: tents",
        AssetKind.STOCKPILE,
        "family_tent",
        2000,
        24,
        "Pathum Thani",
    ),
    (
        "MYS",
        "NADMA stockpile: family food rations",
        AssetKind.STOCKPILE,
        "food_ration",
        5000,
        24,
        "Subang",
    ),
    (
        "SGP",
        "RSAF C-130 cargo flights",
        AssetKind.MILITARY_ASSET,
        "cargo_flight",
        4,
        12,
        "Paya Lebar",
    ),
    ("VNM", "Field hospital (level 2)", AssetKind.MEDICAL_TEAM, "field_hospital", 1, 48, "Hanoi"),
    (
        "IDN",
        "Emergency medical team type 2",
        AssetKind.MEDICAL_TEAM,
        "emergency_medical_team",
        2,
        24,
        "Jakarta",
    ),
    (
        "PHL",
        "Water purification units",
        AssetKind.STOCKPILE,
        "water_purification_unit",
        20,
        24,
        "Clark",
    ),
    (
        "BRN",
        "Satellite telecoms kit and experts",
        AssetKind.EXPERT,
        "telecoms_expert",
        30,
        24,
        "Bandar Seri Begawan",
    ),
]


def _desk_of(code: str) -> Desk | None:
    """The state's disaster-management desk (its CERT or coast guard desks do not ask for aid)."""
    desks = Desk.objects.filter(
        state__code=code, is_active=True, agency_type=AgencyType.DISASTER_MANAGEMENT
    )
    return desks.order_by("code").first()


def _user(username: str):
    return get_user_model().objects.filter(username=username).first()


def _seed_standby() -> None:
    for state_code, name, kind, item, capacity, hours, location in STANDBY:
        desk = _desk_of(state_code)
        if desk is None:
            continue
        spec = ITEMS[item]
        StandbyAsset.objects.update_or_create(
            state=desk.state,
            name=name,
            defaults={
                "desk": desk, "kind": kind, "sector": spec.sector, "item": item,
                "unit": spec.unit, "capacity": capacity, "readiness_hours": hours,
                "location": location, "is_available": True,
            },
        )  # fmt: skip


def _demo_crisis() -> Crisis | None:
    found = (
        Crisis.objects.filter(Q(title__icontains="maritime") | Q(category="maritime"))
        .exclude(reference=OWN_REFERENCE)
        .order_by("reported_at")
        .first()
        or Crisis.objects.filter(reference__startswith="CR-")
        .exclude(reference=OWN_REFERENCE)
        .order_by("reported_at")
        .first()
    )
    if found is not None:
        return found
    desk = _desk_of("PHL")
    if desk is None:
        return None
    crisis, created = Crisis.objects.get_or_create(
        reference=OWN_REFERENCE,
        defaults={
            "title": "Maritime disaster: ferry sinking during a typhoon (humanitarian demo)",
            "category": "maritime",
            "severity": 4,
            "status": "active",
            "reported_by_desk": desk,
            "lead_desk": desk,
            "admin_area": "PH-07 Central Visayas",
            "activated_at": timezone.now(),
        },
    )
    if created:
        crisis.affected_states.add(desk.state)
        CrisisParticipant.objects.get_or_create(
            crisis=crisis, desk=desk, defaults={"role": ParticipantRole.LEAD}
        )
    return crisis


def _ensure_supporting(crisis: Crisis, desks: list[Desk]) -> None:
    for desk in desks:
        CrisisParticipant.objects.get_or_create(
            crisis=crisis, desk=desk, defaults={"role": ParticipantRole.SUPPORTING}
        )


def _seed_assistance(crisis: Crisis) -> None:
    if crisis.status not in WORKING_CRISIS_STATUSES:
        return
    if AssistanceRequest.objects.filter(crisis=crisis, notes__startswith=DEMO_TAG).exists():
        return
    affected: MemberState | None = crisis.affected_states.order_by("code").first()
    if affected is None:
        return
    requester_desk = _desk_of(affected.code)
    requester = _user(f"{affected.code.lower()}-operator")
    helpers = [c for c in ("THA", "MYS", "SGP", "IDN") if c != affected.code][:3]
    helper_desks = [d for d in (_desk_of(c) for c in helpers) if d is not None]
    if requester is None or requester_desk is None or len(helper_desks) < 2:
        return
    _ensure_supporting(crisis, helper_desks)
    now = timezone.now()

    def request(sector, item, quantity, hours, priority, area):
        return assistance.create_request(
            by=requester, desk=requester_desk, crisis=crisis, sector=sector, item=item,
            quantity=quantity, needed_by=now + timedelta(hours=hours), priority=priority,
            admin1_name=area, location=area, notes=f"{DEMO_TAG} posted by the demo seed",
            submit=True,
        )  # fmt: skip

    def helper(i):
        desk = helper_desks[i % len(helper_desks)]
        return _user(f"{desk.state.code.lower()}-operator"), desk

    tents = request("shelter", "family_tent", 1500, 48, "high", "Cebu")
    water = request("wash", "drinking_water", 200000, 24, "critical", "Bohol")
    sar = request("sar", "maritime_sar_unit", 4, -6, "critical", "Camotes Sea")
    request("health", "emergency_medical_team", 2, 72, "high", "Cebu")
    request("food", "food_ration", 8000, 96, "normal", "Leyte")

    by, desk = helper(0)
    p = assistance.make_pledge(by=by, desk=desk, request_id=tents.pk, quantity=1000,
                               eta=now + timedelta(hours=36),
                               conditions="Airlift via Mactan")  # fmt: skip
    assistance.accept_pledge(by=requester, pledge_id=p.pk)
    assistance.dispatch_pledge(by=by, pledge_id=p.pk)
    by, desk = helper(1)
    p = assistance.make_pledge(by=by, desk=desk, request_id=tents.pk, quantity=800,
                               eta=now + timedelta(hours=60))  # fmt: skip
    by, desk = helper(1)
    p = assistance.make_pledge(by=by, desk=desk, request_id=water.pk, quantity=120000,
                               eta=now - timedelta(hours=2))  # fmt: skip
    assistance.accept_pledge(by=requester, pledge_id=p.pk)
    assistance.dispatch_pledge(by=by, pledge_id=p.pk)
    assistance.confirm_delivery(by=requester, pledge_id=p.pk, quantity_received=118500)
    by, desk = helper(2)
    p = assistance.make_pledge(by=by, desk=desk, request_id=sar.pk, quantity=2,
                               eta=now - timedelta(hours=1))  # fmt: skip
    assistance.accept_pledge(by=requester, pledge_id=p.pk)
    by, desk = helper(0)
    assistance.offer_capacity(by=by, desk=desk, crisis=crisis, sector="logistics",
                              item="truck", quantity=20, eta=now + timedelta(hours=24),
                              conditions="With drivers, 14 days")  # fmt: skip

    for name, capacity, population, area, lat, lon in [
        ("Cebu City Sports Centre", 2500, 1830, "Cebu", "10.30000", "123.89000"),
        ("Tagbilaran Central School", 600, 600, "Bohol", "9.65000", "123.85000"),
    ]:
        if not Shelter.objects.filter(crisis=crisis, name=name).exists():
            shelter = shelters.register_shelter(
                by=requester, desk=requester_desk, crisis=crisis, name=name,
                capacity=capacity, population=population // 2, admin1_name=area,
                latitude=lat, longitude=lon,
                services=["water", "sanitation", "health"],
            )  # fmt: skip
            shelters.update_shelter(by=requester, shelter_id=shelter.pk, population=population)

    if not DisplacementReport.objects.filter(crisis=crisis).exists():
        today = timezone.now().date()
        code, name = affected.code, affected.name
        rows = [
            f"{code},{name},Cebu,{code}-07,Cebu City,{code}-0722,{today},1,baseline,5400,0,IOM DTM",
            f"{code},{name},Bohol,{code}-07B,Tagbilaran,{code}-0712,{today},1,baseline,2100,0,"
            "IOM DTM",
            f"{code},{name},Leyte,{code}-08,Ormoc,{code}-0837,{today},1,site,1300,220,IOM DTM",
        ]
        header = (
            "country_code,country_name,admin1_name,admin1_code,admin2_name,admin2_code,"
            "reported_on,round,assessment_type,idps,refugees,source"
        )
        displacement.start_import(by=requester, desk=requester_desk, crisis=crisis,
                                  content="\n".join([header, *rows]) + "\n",
                                  filename="dtm-round-1.csv")  # fmt: skip


def seed() -> list[tuple[str, str]]:
    """Create or refresh the standby register and the demo crisis's assistance story."""
    with transaction.atomic():
        _seed_standby()
        crisis = _demo_crisis()
    if crisis is not None:
        with transaction.atomic():
            _seed_assistance(crisis)
    return []
