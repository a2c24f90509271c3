"""Protocol level actions do what their names say, once, and validation refuses an action
nothing carries out."""

import pytest
from django.db import transaction

from crisis.models import Crisis, CrisisParticipant, Notification, TimelineEntry
from crisis.services import level_actions, protocol_rules
from crisis.services.escalation import start_escalation
from crisis.snapshot import ProtocolSnapshot
from humanitarian.services.invitations import invitation_subject
from paging.models import DeliveryAttempt, Page
from tests.crisis.factories import AFFECTED, expire, make_crisis, make_escalation_protocol
from tests.factories import make_desk, make_person, make_state

pytestmark = pytest.mark.django_db


def start(crisis):
    with transaction.atomic():
        start_escalation(crisis=Crisis.objects.select_for_update().get(pk=crisis.pk))
    crisis.refresh_from_db()


def desks_told(crisis, kind):
    return sorted(
        Notification.objects.filter(crisis=crisis, kind=kind).values_list("desk__code", flat=True)
    )


def test_notify_all_states_tells_and_pages_every_national_desk_once(region):
    extra = make_desk(make_state("DDD", "State D"), code="DDD-DESK")
    sup_d = make_person(extra, "supervisor", username="sup-d")
    version = make_escalation_protocol(levels=({**AFFECTED, "actions": ["notify_all_states"]},))
    crisis = make_crisis(region, version)

    # Every national desk is told: A by the level itself, the others by the action.
    assert desks_told(crisis, "escalation.level") == ["AAA-DESK"]
    assert desks_told(crisis, "crisis.all_states_informed") == ["BBB-DESK", "CCC-DESK", "DDD-DESK"]
    assert "RCC" not in desks_told(crisis, "crisis.all_states_informed")
    told = Notification.objects.get(desk=extra, crisis=crisis)
    assert "every member state is informed" in told.title
    assert told.link_path == f"/crises/{crisis.pk}/"
    # Paged with urgency escalation, one page per desk under the level's subject.
    pages = Page.objects.filter(subject_key=f"crisis:{crisis.pk}:level:1:round:0")
    assert sorted(pages.values_list("desk__code", flat=True)) == [
        "AAA-DESK", "BBB-DESK", "CCC-DESK", "DDD-DESK"
    ]  # fmt: skip
    page_d = pages.get(desk=extra)
    assert page_d.urgency == "escalation"
    assert "Crisis " + crisis.reference in page_d.body and "Affected: State A." in page_d.body
    assert DeliveryAttempt.objects.filter(page=page_d, recipient__user=sup_d).exists()
    # They take part as observers, so they may open and acknowledge the crisis.
    assert CrisisParticipant.objects.filter(crisis=crisis, desk=extra, role="observer").exists()
    entered = TimelineEntry.objects.get(crisis=crisis, kind="level_entered")
    assert entered.payload["actions_done"] == ["notify_all_states"]

    # Entered again in the same round (a restart before anyone acknowledged), or the
    # handler run twice: nobody is told or paged twice.
    start(crisis)
    with transaction.atomic():
        locked = Crisis.objects.select_for_update().get(pk=crisis.pk)
        level = ProtocolSnapshot.of(locked).level(1)
        level_actions.HANDLERS["notify_all_states"](crisis=locked, level=level)
    assert TimelineEntry.objects.filter(crisis=crisis, kind="level_entered").count() == 2
    assert Notification.objects.filter(desk=extra, crisis=crisis).count() == 1
    assert Page.objects.filter(desk=extra).count() == 1


def test_alert_regional_centre_tells_and_pages_the_centre(region):
    version = make_escalation_protocol(
        levels=({**AFFECTED, "actions": ["alert_regional_centre"]}, AFFECTED)
    )
    crisis = make_crisis(region, version)
    assert desks_told(crisis, "crisis.regional_alert") == ["RCC"]
    page = Page.objects.get(desk=region.centre, subject_key=f"crisis:{crisis.pk}:level:1:round:0")
    assert page.urgency == "escalation" and page.kind == "crisis.level"
    # The centre's page is the level's: the next level ends it with the level's own pages.
    expire(crisis)
    page.refresh_from_db()
    assert page.state == "closed"


def test_request_assistance_invites_the_affected_states_once(region):
    version = make_escalation_protocol(
        levels=({**AFFECTED, "actions": ["request_assistance"]},),
        repeat_last_level=True,
        max_repeats=2,
    )
    crisis = make_crisis(region, version, affected=[region.state_a, region.state_b])
    assert desks_told(crisis, "assistance.invited") == ["AAA-DESK", "BBB-DESK"]
    invitation = Notification.objects.get(desk=region.desk_b, kind="assistance.invited")
    assert invitation.link_path == f"/aid/{crisis.pk}/"
    assert "requests for assistance are invited" in invitation.title
    page = Page.objects.get(desk=region.desk_b, subject_key=invitation_subject(crisis))
    assert page.urgency == "urgent"
    assert "aid board" in page.body
    invited = TimelineEntry.objects.get(crisis=crisis, kind="assistance_invited")
    assert invited.payload["desks"] == ["AAA-DESK", "BBB-DESK"]

    expire(crisis)  # the top level repeats: nobody is invited twice
    assert crisis.level_repeats == 1
    assert Notification.objects.filter(crisis=crisis, kind="assistance.invited").count() == 2
    assert TimelineEntry.objects.filter(crisis=crisis, kind="assistance_invited").count() == 1


def test_acknowledging_the_invitation_page_marks_it_read(region):
    from paging.services import acknowledge_page

    version = make_escalation_protocol(levels=({**AFFECTED, "actions": ["request_assistance"]},))
    crisis = make_crisis(region, version)
    page = Page.objects.get(desk=region.desk_a, subject_key=invitation_subject(crisis))
    acknowledge_page(by=region.supervisor_a, page=page)
    invitation = Notification.objects.get(desk=region.desk_a, kind="assistance.invited")
    assert invitation.read_at is not None


def test_every_offered_action_has_a_handler():
    offered = {value for value, _ in level_actions.available_actions()}
    assert offered == {
        "open_crisis_room", "notify_all_states", "alert_regional_centre", "request_assistance"
    }  # fmt: skip


def test_validation_refuses_an_action_without_a_handler(monkeypatch):
    monkeypatch.delitem(level_actions.HANDLERS, "request_assistance")
    level = {
        "order": 1,
        "name": "Affected",
        "timeout_seconds": 60,
        "notify_scopes": ["affected"],
        "actions": ["request_assistance", "alert_regional_centre"],
    }
    problems = protocol_rules.level_problems(level)
    assert problems == [
        "Level 1 (Affected): the action 'Invite requests for assistance' (request_assistance) "
        "is not carried out by anything installed on this server; remove it or use "
        "open_crisis_room, notify_all_states, alert_regional_centre."
    ]
    assert protocol_rules.level_problems(level, structural_only=True) == problems
    # The admin form offers only what is carried out.
    from crisis.admin.protocol_forms import LevelForm

    offered = [value for value, _ in LevelForm().fields["actions"].choices]
    assert "request_assistance" not in offered and "alert_regional_centre" in offered


def test_import_refuses_an_action_without_a_handler(monkeypatch, region, author):
    import json

    from core.errors import InvalidInput
    from crisis import protocol_io
    from crisis.models import Protocol

    monkeypatch.delitem(level_actions.HANDLERS, "notify_all_states")
    version = make_escalation_protocol(levels=({**AFFECTED, "actions": ["notify_all_states"]},))
    document = protocol_io.document_of(version)
    document["protocol"]["name"] = "Oil spill"
    with pytest.raises(InvalidInput) as refused:
        protocol_io.import_version(by=author, data=json.dumps(document), fmt="json")
    assert (
        "'Notify every member state' (notify_all_states) is not carried out"
        in str(refused.value.details) + refused.value.message
    )
    assert not Protocol.objects.filter(name="Oil spill").exists()
