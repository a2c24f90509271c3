"""The typed view of a crisis's bound protocol (``crisis.snapshot``)."""

import dataclasses

import pytest
from django.urls import reverse

from crisis.models import Crisis
from crisis.services.protocols import snapshot_of
from crisis.snapshot import ChecklistItemSnapshot, LevelSnapshot, ProtocolSnapshot
from tests.crisis.factories import activate, make_protocol, report


@pytest.mark.django_db
def test_reads_what_snapshot_of_writes():
    version = make_protocol()
    data = snapshot_of(version)
    snap = ProtocolSnapshot.from_dict(data)
    assert snap.is_bound and snap.version_id == version.pk and snap.version_number == 1
    assert (snap.protocol_id, snap.protocol_name) == (version.protocol_id, version.protocol.name)
    assert (snap.repeat_last_level, snap.max_repeats, snap.top_repeats) == (True, 2, 2)
    assert snap.ack_timeout_seconds is None
    assert [lv.order for lv in snap.levels] == [1, 2, 3]
    first = snap.level(1)
    assert (first.name, first.timeout_seconds) == ("Affected states' operators", 300)
    assert (first.notify_scopes, first.notify_roles) == (("affected",), ("operator",))
    assert first.notify_desk_ids == () and first.actions == ()
    assert snap.level(2).name == "Their supervisors" and snap.level(4) is None
    assert [(i.order, i.party_role, i.title) for i in snap.checklist] == [
        (i["order"], i["party_role"], i["title"]) for i in data["checklist"]
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.max_repeats = 5


def test_a_crisis_bound_to_nothing_has_an_empty_snapshot():
    snap = ProtocolSnapshot.of(Crisis(protocol_snapshot={}))
    assert not snap.is_bound and snap.levels == () and snap.checklist == ()
    assert snap.level(1) is None and snap.ack_timeout_seconds is None and snap.top_repeats == 0


def test_levels_and_checklist_come_in_order_and_defaults_are_spelled_once():
    snap = ProtocolSnapshot.from_dict(
        {
            "repeat_last_level": False,
            "max_repeats": 3,
            "ack_timeout_seconds": "600",
            "levels": [
                {"order": 2, "name": "Two", "timeout_seconds": 60},
                {"order": 1, "name": "One", "timeout_seconds": 30, "notify_scopes": ["affected"]},
            ],
            "checklist": [{"order": 1, "title": "Report", "due_after_minutes": 30}],
        }
    )
    assert [lv.name for lv in snap.levels] == ["One", "Two"]
    assert snap.level(2) == LevelSnapshot(order=2, name="Two", timeout_seconds=60)
    assert snap.top_repeats == 0  # max_repeats counts only when the top level repeats
    assert snap.ack_timeout_seconds == 600
    (item,) = snap.checklist
    assert item == ChecklistItemSnapshot(
        order=1, party_role="all", title="Report", due_after_minutes=30
    )
    assert item.applies_to("lead") and item.applies_to("observer")
    lead_only = dataclasses.replace(item, party_role="lead")
    assert lead_only.applies_to("lead") and not lead_only.applies_to("affected")


@pytest.mark.django_db
def test_the_console_crisis_page_shows_the_bound_ladder_and_checklist(client, region, protocol):
    crisis = activate(region, report(region))
    client.force_login(region.operator_a)
    response = client.get(reverse("console:crisis", kwargs={"pk": crisis.pk}))
    assert response.status_code == 200
    ladder = response.context["ladder"]
    assert [(s.level.order, s.state) for s in ladder] == [
        (1, "current"),
        (2, "waiting"),
        (3, "waiting"),
    ]
    page = response.content.decode()
    assert "L1 Affected states&#x27; operators" in page and "5 min to acknowledge" in page
    assert [i.title for i in response.context["checklist"]] == [
        "Confirm focal point",
        "Send initial report (SASOP Form 1)",
        "Report affected areas",
    ]
