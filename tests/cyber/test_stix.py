"""Cyber crises: CERT desks share STIX 2.1 objects under TLP; bundles out and in."""

from __future__ import annotations

import copy
import json

import pytest
import stix2

from crisis.models import Crisis, CrisisParticipant, ParticipantRole, TimelineEntry
from cyber import stix
from cyber.models import CyberItem
from directory.models import AgencyType, Role
from tests.factories import make_desk, make_person

pytestmark = pytest.mark.django_db

PATTERN = "[ipv4-addr:value = '198.51.100.7']"


class Certs:
    def __init__(self, region):
        self.region = region
        self.desks, self.people = {}, {}
        for state in (region.state_a, region.state_b, region.state_c):
            desk = make_desk(state, code=f"{state.code}-CERT")
            desk.agency_type = AgencyType.CERT
            desk.save(update_fields=["agency_type"])
            self.desks[state.code] = desk
            self.people[state.code] = make_person(
                desk, Role.OPERATOR, username=f"cert-{state.code}"
            )


@pytest.fixture
def certs(region):
    return Certs(region)


def make_cyber_crisis(region, *, ref="CR-2026-0900", category="cyber", affected=None):
    crisis = Crisis.objects.create(
        reference=ref,
        title="Ransomware on the grid operators",
        category=category,
        severity=4,
        status="active",
        reported_by_desk=region.desk_a,
        lead_desk=region.desk_a,
    )
    crisis.affected_states.set(affected or [region.state_a, region.state_b])
    CrisisParticipant.objects.create(crisis=crisis, desk=region.desk_a, role=ParticipantRole.LEAD)
    return crisis


@pytest.fixture
def crisis(region):
    return make_cyber_crisis(region)


def add(api_client, user, crisis, **body):
    api_client.force_authenticate(user)
    return api_client.post(f"/api/v1/crises/{crisis.pk}/cyber-items/", body, format="json")


def indicator(**extra):
    return {"kind": "indicator", "name": "C2 server", "pattern": PATTERN, "tlp": "AMBER", **extra}


def listed(api_client, user, crisis) -> set[str]:
    api_client.force_authenticate(user)
    response = api_client.get(f"/api/v1/crises/{crisis.pk}/cyber-items/")
    assert response.status_code == 200, response.content
    return {row["stix_id"] for row in response.json()}


def exported(api_client, user, crisis) -> dict:
    api_client.force_authenticate(user)
    response = api_client.get(f"/api/v1/crises/{crisis.pk}/stix/")
    assert response.status_code == 200, response.content
    bundle = response.json()
    stix2.parse(json.dumps(bundle), allow_custom=False)  # a valid STIX 2.1 bundle
    return bundle


def ids(bundle: dict) -> set[str]:
    return {o["id"] for o in bundle["objects"]}


# --- sharing ---------------------------------------------------------------------------------


def test_a_cert_desk_shares_an_indicator_marked_with_tlp_2(region, certs, crisis, api_client):
    response = add(api_client, certs.people["AAA"], crisis, **indicator())
    assert response.status_code == 201, response.content
    row = response.json()
    assert row["tlp_label"] == "TLP:AMBER — recipients' organisations, need to know"
    assert row["kind_label"] == "Indicator" and row["shared_by"] == "AAA-CERT"
    obj = row["stix"]
    assert obj["type"] == "indicator" and obj["pattern"] == PATTERN
    assert obj["object_marking_refs"] == [stix.TLP2_IDS["AMBER"]]
    assert listed(api_client, certs.people["BBB"], crisis) == {obj["id"]}
    assert listed(api_client, region.operator_b, crisis) == {obj["id"]}  # B's disaster desk
    entry = TimelineEntry.objects.filter(kind="cyber.item_shared").get()
    assert entry.payload["tlp"] == "AMBER"


def test_only_cert_desks_and_coordinators_share(region, certs, crisis, api_client):
    refused = add(api_client, region.operator_a, crisis, **indicator())
    assert refused.status_code == 403 and refused.json()["code"] == "not_a_cert_desk"
    assert "disaster management desk" in refused.json()["message"]
    assert add(api_client, region.auditor, crisis, **indicator()).status_code == 403
    # State C is not party: its CERT does not even see the crisis.
    assert add(api_client, certs.people["CCC"], crisis, **indicator()).status_code == 404
    assert CyberItem.objects.count() == 0
    assert add(api_client, region.coordinator, crisis, **indicator()).status_code == 201


def test_only_cyber_crises_take_stix_items(region, certs, api_client):
    flood = make_cyber_crisis(region, ref="CR-2026-0901", category="flood")
    response = add(api_client, certs.people["AAA"], flood, **indicator())
    assert response.status_code == 409 and response.json()["code"] == "not_cyber"


@pytest.mark.parametrize(
    "body,words",
    [
        (indicator(pattern="[ipv4-addr:value = "), "pattern"),
        (indicator(tlp="PURPLE"), "tlp"),
        (indicator(name=""), "name"),
        (indicator(recipients=["BBB-CERT"]), "Only TLP:RED items name their recipients"),
        (indicator(tlp="RED", recipients=["NOPE"]), "Unknown desk"),
        ({"kind": "observed-data", "tlp": "GREEN", "observables": []}, "1 to 100"),
        (
            {
                "kind": "observed-data",
                "tlp": "GREEN",
                "observables": [{"type": "ipv4-addr", "value": "999.1.1.1"}],
            },
            "not an IP address",
        ),
        ({"kind": "sighting", "tlp": "GREEN", "sighting_of": "indicator--nope"}, "sighting_of"),
    ],
)
def test_bad_items_are_refused_saying_why(certs, crisis, api_client, body, words):
    response = add(api_client, certs.people["AAA"], crisis, **body)
    assert response.status_code == 400, response.content
    assert words in json.dumps(response.json()), response.json()
    assert CyberItem.objects.count() == 0


# --- TLP:RED ---------------------------------------------------------------------------------


def test_red_items_reach_their_named_recipients_only(region, certs, crisis, api_client):
    red = add(
        api_client, certs.people["AAA"], crisis, **indicator(tlp="RED", recipients=["BBB-CERT"])
    )
    assert red.status_code == 201, red.content
    red_id = red.json()["stix"]["id"]
    sighting = add(
        api_client, certs.people["BBB"], crisis, kind="sighting", tlp="GREEN", sighting_of=red_id
    )
    assert sighting.status_code == 201, sighting.content
    # A sighting of a RED indicator is RED, for the same recipients.
    assert sighting.json()["tlp"] == "RED"
    assert set(sighting.json()["recipients"]) == {"AAA-CERT", "BBB-CERT"}
    green = add(api_client, certs.people["AAA"], crisis, **indicator(tlp="GREEN", name="Phish"))
    green_id = green.json()["stix"]["id"]
    red_ids = {red_id, sighting.json()["stix"]["id"]}

    for recipient in (certs.people["AAA"], certs.people["BBB"]):
        assert listed(api_client, recipient, crisis) == red_ids | {green_id}
        assert red_ids <= ids(exported(api_client, recipient, crisis))
    for outsider in (region.operator_a, region.operator_b, region.coordinator, region.auditor):
        assert listed(api_client, outsider, crisis) == {green_id}
        bundle = exported(api_client, outsider, crisis)
        assert not red_ids & ids(bundle)
        assert stix.TLP2_IDS["RED"] not in json.dumps(bundle)
    assert not TimelineEntry.objects.filter(payload__tlp="RED").exists()


# --- bundles ---------------------------------------------------------------------------------


def _share_everything(region, certs, crisis, api_client):
    a, b = certs.people["AAA"], certs.people["BBB"]
    ind = add(api_client, a, crisis, **indicator(tlp="GREEN")).json()["stix"]["id"]
    observed = add(
        api_client, a, crisis, kind="observed-data", tlp="AMBER+STRICT",
        observables=[{"type": "ipv4-addr", "value": "198.51.100.7"},
                     {"type": "domain-name", "value": "grid-update.example.net"}],
    )  # fmt: skip
    assert observed.status_code == 201, observed.content
    pattern = add(api_client, b, crisis, kind="attack-pattern", tlp="CLEAR",
                  name="Spearphishing attachment", external_id="T1566.001")  # fmt: skip
    assert pattern.status_code == 201, pattern.content
    seen = add(api_client, b, crisis, kind="sighting", tlp="GREEN", sighting_of=ind, count=3)
    assert seen.status_code == 201, seen.content


def _content(bundle: dict) -> dict[str, dict]:
    return {o["id"]: o for o in bundle["objects"]}


def test_bundle_round_trip_through_stix2(region, certs, crisis, api_client):
    _share_everything(region, certs, crisis, api_client)
    bundle = exported(api_client, certs.people["AAA"], crisis)
    types = sorted(o["type"] for o in bundle["objects"])
    assert types.count("marking-definition") == 3  # CLEAR, GREEN, AMBER+STRICT
    assert {"indicator", "observed-data", "attack-pattern", "sighting", "ipv4-addr",
            "domain-name", "identity"} <= set(types)  # fmt: skip
    for obj in bundle["objects"]:
        if obj["type"] != "marking-definition":
            (marking,) = (
                obj.get("object_marking_refs", [None])
                if obj["type"] != "identity"
                else (stix.TLP2_IDS["CLEAR"],)
            )
            assert marking in stix.LEVEL_OF_MARKING, obj

    other = make_cyber_crisis(region, ref="CR-2026-0902")
    api_client.force_authenticate(certs.people["AAA"])
    response = api_client.post(f"/api/v1/crises/{other.pk}/stix/", bundle, format="json")
    assert response.status_code == 201, response.content
    assert len(response.json()["created"]) == 4
    again = exported(api_client, certs.people["AAA"], other)
    assert _content(again) == _content(bundle)

    before = CyberItem.objects.count()
    repeat = api_client.post(f"/api/v1/crises/{other.pk}/stix/", bundle, format="json")
    assert repeat.status_code == 200 and len(repeat.json()["already_had"]) == 4
    assert CyberItem.objects.count() == before


def test_tlp_1_markings_are_read_as_their_tlp_2_levels(region, certs, crisis, api_client):
    obj = stix2.Indicator(
        name="Old feed", pattern=PATTERN, pattern_type="stix", object_marking_refs=[stix2.TLP_WHITE]
    )
    bundle = json.loads(stix2.Bundle(stix2.TLP_WHITE, obj).serialize())
    api_client.force_authenticate(certs.people["AAA"])
    response = api_client.post(f"/api/v1/crises/{crisis.pk}/stix/", bundle, format="json")
    assert response.status_code == 201, response.content
    assert CyberItem.objects.get().tlp == "CLEAR"


def _good_bundle() -> dict:
    marking = stix.marking_definition("AMBER")
    obj = stix2.Indicator(
        name="C2", pattern=PATTERN, pattern_type="stix", object_marking_refs=[marking["id"]]
    )
    return {"type": "bundle", "id": "bundle--0b0e4d0a-3f0c-4c5e-9b8e-5f0a0e0a0e0a",
            "objects": [marking, json.loads(obj.serialize())]}  # fmt: skip


def _with(change) -> dict:
    bundle = copy.deepcopy(_good_bundle())
    change(bundle)
    return bundle


@pytest.mark.parametrize(
    "body,words",
    [
        ({"type": "report"}, "is not a valid choice"),
        (_with(lambda b: b["objects"].clear()), "objects"),
        (_with(lambda b: b["objects"].append({"type": "malware", "id": "malware--x"})), "malware"),
        (_with(lambda b: b["objects"][1].update(x_secret="1")), "x_secret"),
        (_with(lambda b: b["objects"][1].pop("object_marking_refs")), "no TLP marking"),
        (_with(lambda b: b["objects"][1].update(pattern="[oops")), "pattern"),
        (
            _with(
                lambda b: b["objects"][1].update(
                    object_marking_refs=["marking-definition--613f2e26-0000-48c7-9eca-b8e91df99dc9"]
                )
            ),
            "marking definition we do not know",
        ),
        (
            _with(
                lambda b: b["objects"].append({**b["objects"][1], "id": "indicator--7", "name": 5})
            ),
            "objects[2]",
        ),
    ],
)
def test_bad_bundles_are_refused_whole(certs, crisis, api_client, body, words):
    api_client.force_authenticate(certs.people["AAA"])
    response = api_client.post(f"/api/v1/crises/{crisis.pk}/stix/", body, format="json")
    assert response.status_code == 400, response.content
    assert words in json.dumps(response.json()), response.json()
    assert CyberItem.objects.count() == 0


def test_only_cert_desks_import(region, certs, crisis, api_client):
    api_client.force_authenticate(region.operator_a)
    response = api_client.post(f"/api/v1/crises/{crisis.pk}/stix/", _good_bundle(), format="json")
    assert response.status_code == 403
    api_client.force_authenticate(certs.people["CCC"])
    response = api_client.post(f"/api/v1/crises/{crisis.pk}/stix/", _good_bundle(), format="json")
    assert response.status_code == 404
    assert CyberItem.objects.count() == 0
