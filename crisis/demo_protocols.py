"""Demo protocols, modelled on how ASEAN's regional mechanism works (AADMER / SASOP).

Each protocol follows the SASOP rhythm: the affected state's initial report to the regional
centre (the AHA Centre), a standby alert to the states that earmarked assets, requests and
offers of assistance (only the affected government requests), deployment, regular
situation updates and demobilisation. Ladders start with the affected states' duty
operators and climb to their supervisors, then to the regional coordinator and every
member state; the top level repeats.

The definitions use the protocol file format (``crisis.protocol_io``), so they read like
an exported file. :func:`seed` is idempotent: a protocol whose published version already
says the same is left alone; otherwise a new version is drafted and published.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction

from crisis import protocol_io
from crisis.models import Protocol, VersionStatus
from crisis.services import protocols as services

AUTHOR = "coordinator"


def _level(order, name, minutes, scopes, roles, actions=(), desks=(), agency_types=()):
    return {
        "order": order,
        "name": name,
        "timeout_minutes": minutes,
        "notify_scopes": list(scopes),
        "notify_roles": list(roles),
        "notify_desks": list(desks),
        "notify_agency_types": list(agency_types),
        "actions": list(actions),
    }


def _task(order, party, title, due, description=""):
    return {
        "order": order,
        "party_role": party,
        "title": title,
        "description": description,
        "due_after_minutes": due,
    }


def _doc(name, category, description, *, notes, levels, checklist, repeats=3, ack=None):
    return {
        "format": protocol_io.FORMAT,
        "protocol": {"name": name, "category": category, "description": description},
        "version": {
            "notes": notes,
            "repeat_last_level": repeats > 0,
            "max_repeats": repeats,
            "ack_timeout_seconds": ack,
            "levels": levels,
            "checklist": checklist,
        },
    }


PROTOCOLS = [
    _doc(
        "Maritime incident",
        "maritime",
        "Vessel in distress, collision, mass-casualty incident or oil spill at sea that "
        "involves more than one state's waters, ships or nationals.",
        notes="Initial version, following SASOP and the regional maritime SAR arrangements.",
        ack=3600,
        levels=[
            _level(
                1,
                "Affected states' disaster, coast guard and defence duty operators",
                10,
                ["affected"],
                ["operator"],
                ["alert_regional_centre"],
                agency_types=["disaster_management", "coast_guard", "defence"],
            ),
            _level(
                2,
                "Affected states' supervisors and the AHA Centre",
                15,
                ["affected", "regional"],
                ["supervisor", "coordinator"],
                ["open_crisis_room"],
            ),
            _level(
                3,
                "Regional coordinator and every member state",
                30,
                ["regional", "all_states"],
                ["coordinator", "supervisor"],
                ["notify_all_states", "request_assistance"],
            ),
        ],
        checklist=[
            _task(
                1,
                "affected",
                "Send the initial report (SASOP Form 1) to the AHA Centre",
                30,
                "Position, vessel(s), persons on board, casualties, pollution, assets on scene.",
            ),
            _task(2, "lead", "Confirm the coordinating MRCC and the search area", 45),
            _task(
                3,
                "supporting",
                "Confirm standby assets: vessels, aircraft, pollution-response kits",
                90,
            ),
            _task(
                4,
                "affected",
                "Request assistance, if needed, stating the assets wanted",
                120,
                "Only the affected government requests; the AHA Centre relays offers.",
            ),
            _task(5, "all", "Post a situation update", 360),
            _task(6, "lead", "Demobilise: release assets and send the final report", 4320),
        ],
    ),
    _doc(
        "Earthquake and tsunami",
        "earthquake",
        "Major earthquake or tsunami warning affecting one or more member states (e.g. a "
        "magnitude 7+ event in the Sunda or Philippine trench).",
        notes="Initial version: short first level, tsunami travel times are minutes.",
        repeats=5,
        ack=1800,
        levels=[
            _level(
                1,
                "Affected states' duty operators",
                5,
                ["affected"],
                ["operator"],
                ["alert_regional_centre"],
            ),
            _level(
                2,
                "Affected states' supervisors and the AHA Centre",
                10,
                ["affected", "regional"],
                ["supervisor", "coordinator"],
                ["open_crisis_room"],
            ),
            _level(
                3,
                "Regional coordinator and every member state",
                15,
                ["regional", "all_states"],
                ["coordinator", "supervisor", "operator"],
                ["notify_all_states", "request_assistance"],
            ),
        ],
        checklist=[
            _task(1, "affected", "Send the initial report (SASOP Form 1) to the AHA Centre", 60),
            _task(
                2,
                "lead",
                "Issue a standby alert to states with earmarked SAR and medical teams",
                60,
                "ASEAN joint response plan: yellow (standby) phase.",
            ),
            _task(3, "affected", "Decide on and send a request for assistance", 240),
            _task(
                4, "supporting", "Send an offer of assistance (teams, relief items, assets)", 360
            ),
            _task(
                5,
                "lead",
                "Deploy the ERAT to the affected state and agree staging areas",
                720,
                "Red phase: deployment within hours.",
            ),
            _task(6, "all", "Post a situation update every 24 hours", 1440),
            _task(7, "lead", "Demobilise teams and assets; final report", 20160),
        ],
    ),
    _doc(
        "Refugee influx",
        "refugee",
        "Sudden cross-border movement of people fleeing conflict or disaster, beyond what "
        "the receiving state's border and relief services can absorb.",
        notes="Initial version: slower ladder, the first hours are about numbers and shelter.",
        repeats=2,
        levels=[
            _level(1, "Affected states' duty operators", 15, ["affected"], ["operator"]),
            _level(
                2,
                "Affected states' supervisors",
                30,
                ["affected"],
                ["supervisor"],
                ["open_crisis_room", "alert_regional_centre"],
            ),
            _level(
                3,
                "Regional coordinator and every member state",
                60,
                ["regional", "all_states"],
                ["coordinator", "supervisor"],
                ["notify_all_states", "request_assistance"],
            ),
        ],
        checklist=[
            _task(
                1,
                "affected",
                "Report arrivals to the AHA Centre: where, how many, vulnerable groups",
                120,
            ),
            _task(2, "affected", "Open reception sites and report shelter capacity", 360),
            _task(
                3, "lead", "Convene the affected and neighbouring states in the crisis room", 240
            ),
            _task(
                4,
                "affected",
                "Request assistance by sector: shelter, food, water, health, protection",
                720,
            ),
            _task(5, "supporting", "Offer relief items and staff; confirm delivery dates", 1440),
            _task(6, "all", "Post a situation update with displacement figures", 1440),
            _task(7, "lead", "Hand over to the longer-term response; final report", 43200),
        ],
    ),
    _doc(
        "Cross-border cyber attack",
        "cyber",
        "Cyber attack on critical infrastructure (power, telecoms, ports, payment "
        "systems) in one state that spreads to, or comes from, another.",
        notes="Initial version: indicators are shared under TLP through the crisis room only.",
        repeats=4,
        ack=1800,
        levels=[
            _level(
                1,
                "Affected states' CERT duty operators",
                5,
                ["affected"],
                ["operator"],
                ["open_crisis_room"],
                agency_types=["cert"],
            ),
            _level(
                2,
                "Affected states' supervisors and the regional centre",
                10,
                ["affected", "regional"],
                ["supervisor", "coordinator"],
                ["alert_regional_centre"],
            ),
            _level(
                3,
                "Every member state's CERT desks and the regional coordinator",
                15,
                ["all_states", "regional"],
                ["operator", "supervisor", "coordinator"],
                ["notify_all_states"],
                agency_types=["cert"],
            ),
        ],
        checklist=[
            _task(
                1,
                "affected",
                "Report the incident: systems hit, first seen, suspected origin",
                30,
            ),
            _task(
                2,
                "affected",
                "Share indicators of compromise in the crisis room (TLP:AMBER)",
                60,
            ),
            _task(3, "all", "Check own networks for the shared indicators and report back", 240),
            _task(4, "supporting", "Offer incident-response expertise if asked", 360),
            _task(5, "lead", "Agree a joint public statement, if any", 720),
            _task(6, "lead", "Close: lessons learned and final report", 10080),
        ],
    ),
]


def _comparable(content: dict) -> dict:
    keys = (
        "order",
        "name",
        "timeout_seconds",
        "notify_scopes",
        "notify_roles",
        "notify_agency_types",
        "actions",
    )
    return {
        **{f: content.get(f) for f in services.DRAFT_FIELDS},
        "levels": [
            {**{k: lv[k] for k in keys}, "desks": lv["notify_desk_ids"]} for lv in content["levels"]
        ],
        "checklist": content["checklist"],
    }


@transaction.atomic
def seed() -> list[tuple[str, str]]:
    """Make each demo protocol's published version say what :data:`PROTOCOLS` says."""
    author = get_user_model().objects.get(username=AUTHOR)
    author.user_permissions.add(
        Permission.objects.get(content_type__app_label="crisis", codename="author_protocol")
    )
    author = get_user_model().objects.get(pk=author.pk)  # fresh permission cache
    for document in PROTOCOLS:
        parsed = protocol_io.parse_document(document)
        meta, content = parsed["protocol"], parsed["content"]
        protocol = Protocol.objects.filter(name=meta["name"]).first()
        if protocol is None:
            _, draft = services.create_protocol(by=author, **meta, content=content, source="demo")
        else:
            published = protocol.versions.filter(status=VersionStatus.PUBLISHED).first()
            current = published and {**services.snapshot_of(published), "notes": published.notes}
            if current and _comparable(current) == _comparable(content):
                continue
            if protocol.description != meta["description"]:
                protocol.description = meta["description"]
                protocol.save(update_fields=["description"])
            draft = services.new_draft(by=author, protocol=protocol, content=content, source="demo")
        services.publish_version(by=author, version=draft)
    return []
