"""Desks tagged with their agency type, and protocol levels that page by it."""

import pytest

from core.errors import InvalidInput
from crisis import protocol_io
from crisis.models import Notification
from crisis.services import protocol_rules as rules
from crisis.services.escalation import recipient_desks
from crisis.snapshot import LevelSnapshot
from directory.models import AgencyType, Desk
from tests.crisis.factories import make_crisis, make_escalation_protocol
from tests.factories import make_desk, make_person

pytestmark = pytest.mark.django_db


def _agency_desk(state, code, agency_type):
    desk = make_desk(state, code=code)
    desk.agency_type = agency_type
    desk.save(update_fields=["agency_type"])
    make_person(desk)
    return desk


@pytest.fixture
def agencies(region):
    return {
        "cert_a": _agency_desk(region.state_a, "AAA-CERT", AgencyType.CERT),
        "cert_b": _agency_desk(region.state_b, "BBB-CERT", AgencyType.CERT),
        "coast_a": _agency_desk(region.state_a, "AAA-CG", AgencyType.COAST_GUARD),
        "navy_a": _agency_desk(region.state_a, "AAA-NAVY", AgencyType.DEFENCE),
    }


def test_new_desks_are_disaster_management_and_the_api_says_so_in_words(
    region, agencies, api_client
):
    assert region.desk_a.agency_type == AgencyType.DISASTER_MANAGEMENT
    api_client.force_authenticate(region.operator_b)
    rows = api_client.get("/api/v1/desks/", {"agency_type": "cert"}).json()
    rows = rows.get("results", rows)
    assert {r["code"] for r in rows} == {"AAA-CERT", "BBB-CERT"}
    assert rows[0]["agency_type"] == "cert"
    assert rows[0]["agency_type_label"] == "CERT (computer emergency response team)"


def test_an_unknown_agency_type_filter_is_a_400_naming_the_choices(region, api_client):
    api_client.force_authenticate(region.operator_b)
    response = api_client.get("/api/v1/desks/", {"agency_type": "navy"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unknown_agency_type" and "coast_guard" in body["message"]


def test_the_database_refuses_an_unknown_agency_type(region):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Desk.objects.filter(pk=region.desk_a.pk).update(agency_type="navy")


def test_a_cyber_level_pages_only_the_affected_states_cert_desks(region, agencies):
    version = make_escalation_protocol(
        levels=[
            {
                "name": "CERTs",
                "timeout_seconds": 300,
                "notify_scopes": ["affected"],
                "notify_agency_types": ["cert"],
            }
        ]
    )
    crisis = make_crisis(region, version, affected=[region.state_a, region.state_b])
    told = set(
        Notification.objects.filter(crisis=crisis, kind="escalation.level").values_list(
            "desk__code", flat=True
        )
    )
    assert told == {"AAA-CERT", "BBB-CERT"}


def test_a_maritime_level_pages_coast_guard_and_defence_and_the_centre_still(region, agencies):
    level = LevelSnapshot(
        order=1,
        name="Sea",
        timeout_seconds=60,
        notify_scopes=("all_states", "regional"),
        notify_agency_types=("coast_guard", "defence"),
        notify_desk_ids=(region.desk_c.pk,),
    )
    crisis = make_crisis(region, make_escalation_protocol(), start=False)
    codes = [d.code for d in recipient_desks(crisis, level)]
    # The centre (regional scope) and the desk named one by one are told whatever their kind.
    assert codes == ["AAA-CG", "AAA-NAVY", "CCC-DESK", "RCC"]


def test_without_agency_types_every_desk_of_the_scope_is_told(region, agencies):
    level = LevelSnapshot(order=1, name="All", timeout_seconds=60, notify_scopes=("affected",))
    crisis = make_crisis(region, make_escalation_protocol(), start=False)
    codes = {d.code for d in recipient_desks(crisis, level)}
    assert codes == {"AAA-DESK", "AAA-CERT", "AAA-CG", "AAA-NAVY"}


def test_rules_explain_unknown_agency_types_and_types_without_a_state_scope():
    level = {
        "order": 1,
        "name": "Centre",
        "timeout_seconds": 60,
        "notify_scopes": ["regional"],
        "notify_roles": ["coordinator"],
        "notify_agency_types": ["cert", "navy"],
    }
    problems = rules.level_problems(level)
    assert any("unknown agency type 'navy'" in p for p in problems)
    assert any("no scope reaches them" in p for p in problems)


def test_protocol_files_carry_agency_types_and_refuse_unknown_ones(region):
    levels, _ = protocol_io.parse_ladder(
        levels=[
            {
                "order": 1,
                "name": "CERTs",
                "timeout_minutes": 5,
                "notify_scopes": ["affected"],
                "notify_agency_types": ["cert"],
            }
        ]
    )
    assert levels[0]["notify_agency_types"] == ["cert"]
    with pytest.raises(InvalidInput) as refused:
        protocol_io.parse_ladder(
            levels=[
                {
                    "order": 1,
                    "name": "CERTs",
                    "timeout_minutes": 5,
                    "notify_scopes": ["affected"],
                    "notify_agency_types": ["hackers"],
                }
            ]
        )
    assert "levels[0].notify_agency_types" in str(refused.value.details)


def test_the_preview_says_which_agencies_are_told():
    level = LevelSnapshot(
        order=1,
        name="CERTs",
        timeout_seconds=60,
        notify_scopes=("affected",),
        notify_roles=("operator",),
        notify_agency_types=("cert",),
    )
    assert rules.describe_audience(level) == (
        "operators at desks of the affected states (only CERT desks of the member states)"
    )


def test_the_demo_has_cert_coast_guard_and_defence_desks_and_protocols_use_them():
    from django.core.management import call_command

    from crisis.models import Protocol

    call_command("seed_demo")
    kinds = set(Desk.objects.values_list("agency_type", flat=True))
    assert {"cert", "coast_guard", "defence", "disaster_management"} <= kinds
    cyber = Protocol.objects.get(category="cyber").versions.get(status="published")
    assert cyber.levels.get(order=1).notify_agency_types == ["cert"]
    maritime = Protocol.objects.get(category="maritime").versions.get(status="published")
    assert {"coast_guard", "defence"} <= set(maritime.levels.get(order=1).notify_agency_types)


def test_the_admin_lists_desks_by_agency_type_and_the_new_records(region, agencies, admin_client):
    page = admin_client.get("/admin/directory/desk/", {"agency_type": "cert"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "AAA-CERT" in text and "CERT (computer emergency response team)" in text
    assert "AAA-DESK" not in text
    for url in ("/admin/cyber/cyberitem/", "/admin/humanitarian/receivedrmmessage/"):
        assert admin_client.get(url).status_code == 200, url
