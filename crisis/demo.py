"""Demo data: the ten ASEAN member states, their desks and people, and the AHA Centre.

Idempotent: rows are found by natural keys and updated in place, so running it twice
leaves the same rows. Other apps add their own ``demo.py`` with a ``seed()`` function;
``manage.py seed_demo`` runs them in ``INSTALLED_APPS`` order.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from crisis import demo_protocols
from directory.models import AgencyType, Desk, DeskKind, DeskMembership, MemberState, Role

#: (ISO 3166-1 alpha-3, name, [(desk code, desk name, IANA time zone, phone)])
ASEAN = [
    (
        "BRN",
        "Brunei Darussalam",
        [("BRN-NDMC", "National Disaster Management Centre", "Asia/Brunei", "+673 238 0600")],
    ),
    (
        "KHM",
        "Cambodia",
        [
            (
                "KHM-NCDM",
                "National Committee for Disaster Management",
                "Asia/Phnom_Penh",
                "+855 23 882 411",
            )
        ],
    ),
    (
        "IDN",
        "Indonesia",
        [
            (
                "IDN-BNPB",
                "BNPB Emergency Operations Centre (Jakarta)",
                "Asia/Jakarta",
                "+62 21 2982 7444",
            ),
            (
                "IDN-MAKASSAR",
                "BNPB Regional Operations Desk (Makassar)",
                "Asia/Makassar",
                "+62 411 871 200",
            ),
        ],
    ),
    (
        "LAO",
        "Lao People's Democratic Republic",
        [("LAO-NDMO", "National Disaster Management Office", "Asia/Vientiane", "+856 21 243 062")],
    ),
    (
        "MYS",
        "Malaysia",
        [("MYS-NADMA", "NADMA National Operations Centre", "Asia/Kuala_Lumpur", "+60 3 8870 4800")],
    ),
    (
        "MMR",
        "Myanmar",
        [("MMR-DDM", "Department of Disaster Management", "Asia/Yangon", "+95 67 340 4555")],
    ),
    (
        "PHL",
        "Philippines",
        [
            ("PHL-NDRRMC", "NDRRMC Operations Center (Manila)", "Asia/Manila", "+63 2 8911 1406"),
            ("PHL-CEBU", "OCD Region VII Operations Desk (Cebu)", "Asia/Manila", "+63 32 416 5025"),
        ],
    ),
    (
        "SGP",
        "Singapore",
        [("SGP-SCDF", "SCDF Operations Centre", "Asia/Singapore", "+65 6848 1400")],
    ),
    (
        "THA",
        "Thailand",
        [("THA-DDPM", "DDPM National Command Centre", "Asia/Bangkok", "+66 2 637 3000")],
    ),
    (
        "VNM",
        "Viet Nam",
        [
            (
                "VNM-VDDMA",
                "Viet Nam Disaster and Dyke Management Authority",
                "Asia/Ho_Chi_Minh",
                "+84 24 3733 5805",
            )
        ],
    ),
]

#: Desks of other agencies, paged by protocols that target an agency type (the cyber
#: protocol its CERT desks; the maritime one coast guard and defence desks):
#: (state, desk code, desk name, agency type, IANA time zone). Each has its own duty
#: operator (``<desk code>-operator``); the state's duty supervisor supervises it too.
AGENCY_DESKS = [
    ("IDN", "IDN-BSSN", "BSSN Gov-CSIRT (Jakarta)", AgencyType.CERT, "Asia/Jakarta"),
    ("MYS", "MYS-MYCERT", "MyCERT, CyberSecurity Malaysia", AgencyType.CERT, "Asia/Kuala_Lumpur"),
    ("PHL", "PHL-CERT", "CERT-PH (Quezon City)", AgencyType.CERT, "Asia/Manila"),
    ("SGP", "SGP-SINGCERT", "SingCERT, Cyber Security Agency", AgencyType.CERT, "Asia/Singapore"),
    ("THA", "THA-THAICERT", "ThaiCERT (Bangkok)", AgencyType.CERT, "Asia/Bangkok"),
    ("VNM", "VNM-VNCERT", "VNCERT/CC (Hanoi)", AgencyType.CERT, "Asia/Ho_Chi_Minh"),
    (
        "IDN",
        "IDN-BAKAMLA",
        "Bakamla Maritime Security Operations",
        AgencyType.COAST_GUARD,
        "Asia/Jakarta",
    ),
    (
        "MYS",
        "MYS-MMEA",
        "Malaysian Maritime Enforcement Agency Operations",
        AgencyType.COAST_GUARD,
        "Asia/Kuala_Lumpur",
    ),
    (
        "PHL",
        "PHL-PCG",
        "Philippine Coast Guard Command Center",
        AgencyType.COAST_GUARD,
        "Asia/Manila",
    ),
    ("VNM", "VNM-VCG", "Viet Nam Coast Guard Command", AgencyType.COAST_GUARD, "Asia/Ho_Chi_Minh"),
    ("THA", "THA-NAVY", "Royal Thai Navy Maritime Operations", AgencyType.DEFENCE, "Asia/Bangkok"),
    (
        "SGP",
        "SGP-RSN",
        "Republic of Singapore Navy Operations",
        AgencyType.DEFENCE,
        "Asia/Singapore",
    ),
]

REGIONAL_DESK = (
    "AHA",
    "AHA Centre (regional coordination centre)",
    "Asia/Jakarta",
    "+62 21 2101 2278",
)


def _user(username: str, first: str, last: str, password: str, *, is_staff: bool = False):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last, "is_staff": is_staff}
    )
    changed = created
    for attr, value in {
        "first_name": first,
        "last_name": last,
        "is_staff": is_staff,
        "is_active": True,
    }.items():
        if getattr(user, attr) != value:
            setattr(user, attr, value)
            changed = True
    if created:  # never reset the password of someone who exists (finding 10)
        user.set_password(password)
    if changed:
        user.save()
    return user


def _member(user, desk: Desk, role: str) -> None:
    DeskMembership.objects.update_or_create(user=user, desk=desk, defaults={"role": role})


def _agency_desks(state: MemberState, supervisor, password: str) -> list[tuple[str, str]]:
    """The state's CERT, coast guard and defence desks, each with its own duty operator."""
    logins = []
    for state_code, desk_code, desk_name, agency_type, tz in AGENCY_DESKS:
        if state_code != state.code:
            continue
        desk, _ = Desk.objects.update_or_create(
            code=desk_code,
            defaults={
                "name": desk_name,
                "kind": DeskKind.NATIONAL,
                "agency_type": agency_type,
                "state": state,
                "time_zone": tz,
                "contact_email": f"ops@{desk_code.lower()}.example.org",
                "is_active": True,
            },
        )
        operator = _user(f"{desk_code.lower()}-operator", desk_name, "Duty Operator", password)
        _member(operator, desk, Role.OPERATOR)
        _member(supervisor, desk, Role.SUPERVISOR)
        logins.append((operator.username, f"operator, {desk_code} ({agency_type.label})"))
    return logins


@transaction.atomic
def seed() -> list[tuple[str, str]]:
    """Create or refresh the directory; return the demo logins as (username, what)."""
    password = settings.DEMO_PASSWORD
    logins: list[tuple[str, str]] = []

    for code, name, desks in ASEAN:
        state, _ = MemberState.objects.update_or_create(code=code, defaults={"name": name})
        operator = _user(f"{code.lower()}-operator", name, "Duty Operator", password)
        supervisor = _user(f"{code.lower()}-supervisor", name, "Duty Supervisor", password)
        desk_codes = []
        for desk_code, desk_name, tz, phone in desks:
            desk, _ = Desk.objects.update_or_create(
                code=desk_code,
                defaults={
                    "name": desk_name,
                    "kind": DeskKind.NATIONAL,
                    "state": state,
                    "time_zone": tz,
                    "contact_phone": phone,
                    "contact_email": f"ops@{desk_code.lower()}.example.org",
                    "is_active": True,
                },
            )
            _member(operator, desk, Role.OPERATOR)
            _member(supervisor, desk, Role.SUPERVISOR)
            desk_codes.append(desk_code)
        desks_text = ", ".join(desk_codes)
        logins.append((operator.username, f"operator, {desks_text}"))
        logins.append((supervisor.username, f"supervisor, {desks_text}"))
        logins += _agency_desks(state, supervisor, password)

    desk_code, desk_name, tz, phone = REGIONAL_DESK
    centre, _ = Desk.objects.update_or_create(
        code=desk_code,
        defaults={
            "name": desk_name,
            "kind": DeskKind.REGIONAL,
            "state": None,
            "time_zone": tz,
            "contact_phone": phone,
            "contact_email": "ops@aha.example.org",
            "is_active": True,
        },
    )
    coordinator = _user("coordinator", "Regional", "Coordinator", password, is_staff=True)
    _member(coordinator, centre, Role.COORDINATOR)
    auditor = _user("auditor", "Regional", "Auditor", password)
    _member(auditor, centre, Role.AUDITOR)
    logins.append(("coordinator", "coordinator, AHA (staff: admin panel)"))
    logins.append(("auditor", "auditor, read-only across the region"))
    demo_protocols.seed()

    from crisis import demo_crises  # a live crisis on top of the directory

    logins += demo_crises.seed()
    return logins
