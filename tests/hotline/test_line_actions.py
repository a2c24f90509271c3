"""Lines in the console: the page offers propose/accept/archive and a crisis's room exactly
to whom the services let through (hotline.rules is the one check), and the console's
forms answer junk with a message, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from core.errors import DomainError
from crisis.services.crises import report_crisis, transition_crisis
from directory.access import access_for
from hotline import rules
from hotline.models import (
    ChannelEvent,
    ChannelKind,
    ChannelStatus,
    HotlineChannel,
    InvitationStatus,
    RoomInvitation,
)
from hotline.selectors import member_desk_ids
from hotline.services.channels import (
    accept_bilateral_channel,
    archive_channel,
    open_crisis_room,
    propose_bilateral_channel,
)
from hotline.services.crisis_rooms import open_crisis_room_for, open_room_refusal

pytestmark = pytest.mark.django_db


def people(region):
    return {
        "op-a": region.operator_a,
        "sup-a": region.supervisor_a,
        "op-b": region.operator_b,
        "sup-b": region.supervisor_b,
        "op-c": region.operator_c,
        "coord": region.coordinator,
        "audit": region.auditor,
    }


def _proposed(region) -> HotlineChannel:
    return propose_bilateral_channel(
        by=region.operator_a, desk_id=region.desk_a.pk, peer_desk_id=region.desk_b.pk
    )


def _outcome(call) -> str:
    try:
        call()
    except DomainError as exc:
        return exc.code
    return "ok"


@pytest.mark.parametrize("who", ["op-a", "sup-a", "op-b", "sup-b", "op-c", "coord", "audit"])
def test_accept_rule_and_service_agree(region, who):
    line = _proposed(region)
    person = people(region)[who]
    members = member_desk_ids(line)
    refusal = rules.accept_refusal(access_for(person), line, members)
    outcome = _outcome(lambda: accept_bilateral_channel(by=person, channel_id=line.pk))
    # The service answers 404 to who may not see the line; the rule is asked only by
    # people who see it (the console renders it from a scoped selector).
    if outcome == "channel_not_found":
        assert who == "op-c"
    else:
        assert (refusal is None) == (outcome == "ok"), (who, refusal, outcome)
    assert (outcome == "ok") == (who in ("op-b", "sup-b"))


@pytest.mark.parametrize("who", ["op-a", "op-b", "op-c", "coord", "audit"])
@pytest.mark.parametrize("kind", ["bilateral", "room"])
def test_archive_rule_and_service_agree(region, who, kind):
    if kind == "bilateral":
        line = _proposed(region)
    else:
        line = open_crisis_room(
            by=region.coordinator, name="Room", desk_ids=[region.desk_a.pk, region.desk_b.pk]
        )
    person = people(region)[who]
    refusal = rules.archive_refusal(access_for(person), line, member_desk_ids(line))
    outcome = _outcome(lambda: archive_channel(by=person, channel_id=line.pk))
    if outcome != "channel_not_found":
        assert (refusal is None) == (outcome == "ok"), (who, kind, refusal, outcome)
    allowed = {"bilateral": {"op-a", "op-b", "coord"}, "room": {"coord"}}[kind]
    assert (outcome == "ok") == (who in allowed)
    if outcome == "ok":
        line.refresh_from_db()
        assert line.status == ChannelStatus.ARCHIVED
        # Archived twice: refused by the same rule.
        again = rules.archive_refusal(access_for(person), line, member_desk_ids(line))
        assert again is not None and again.code == "channel_archived"


def _crisis(region, **extra):
    crisis = report_crisis(
        by=region.operator_a, desk=region.desk_a, category="flood", title="River flood",
        severity=3, affected_state_codes=["AAA", "BBB"], **extra,
    )  # fmt: skip
    return transition_crisis(
        by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="active"
    )


def test_a_crisis_room_is_opened_once_by_a_party_and_invites_other_states(region):
    crisis = _crisis(region)
    access_c = access_for(region.operator_c)
    assert _outcome(lambda: open_crisis_room_for(by=region.operator_c, crisis_id=crisis.pk)) == (
        "crisis_not_found"
    )
    assert open_room_refusal(access_for(region.auditor), crisis, [region.desk_a.pk], None).code == (
        "not_a_party"
    )
    assert access_c is not None

    room = open_crisis_room_for(by=region.operator_a, crisis_id=crisis.pk)
    assert room.kind == ChannelKind.CRISIS_ROOM and room.crisis_ref == crisis.reference
    assert member_desk_ids(room) == {region.desk_a.pk, region.centre.pk}
    invitation = RoomInvitation.objects.get(channel=room)
    assert invitation.desk == region.desk_b and invitation.status == InvitationStatus.PENDING

    second = _outcome(lambda: open_crisis_room_for(by=region.coordinator, crisis_id=crisis.pk))
    assert second == "room_exists"
    assert HotlineChannel.objects.filter(crisis_ref=crisis.reference).count() == 1


def test_a_drill_gets_a_drill_room_and_a_closed_crisis_none(region):
    drill = _crisis(region, exercise=True)
    room = open_crisis_room_for(by=region.coordinator, crisis_id=drill.pk)
    assert room.exercise and room.name.startswith("EXERCISE ")
    # The coordinator's room has every desk at once.
    assert member_desk_ids(room) == {region.desk_a.pk, region.desk_b.pk, region.centre.pk}

    reported = report_crisis(
        by=region.operator_a, desk=region.desk_a, category="flood", title="False alarm",
        severity=2, affected_state_codes=["AAA"],
    )  # fmt: skip
    closed = transition_crisis(
        by=region.supervisor_a, desk=region.desk_a, crisis=reported, to_status="closed",
        reason="A false alarm",
    )  # fmt: skip
    assert _outcome(lambda: open_crisis_room_for(by=region.coordinator, crisis_id=closed.pk)) == (
        "crisis_not_open"
    )


def test_archive_is_announced_to_the_line_desks(region):
    line = _proposed(region)
    archive_channel(by=region.operator_b, channel_id=line.pk)
    assert ChannelEvent.objects.filter(channel=line, kind="archived").count() == 1


# --- the console pages ----------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_lines_page_offers_only_what_each_person_may_do(region):
    line = _proposed(region)
    page_a = _client(region.operator_a).get("/lines/").content.decode()
    assert "Propose a bilateral line from AAA-DESK" in page_a
    # A proposed: it waits for B; nothing to accept.
    assert "waiting for BBB-DESK to accept" in page_a
    assert f"/lines/{line.pk}/accept/" not in page_a
    # A's list of peers leaves out B (a line is already open or proposed).
    assert (
        f'value="{region.desk_b.pk}"' not in page_a.split('id="peer-desk"')[1].split("</select>")[0]
    )

    page_b = _client(region.operator_b).get("/lines/").content.decode()
    assert f"/lines/{line.pk}/accept/" in page_b
    dashboard_b = _client(region.operator_b).get("/").content.decode()
    assert f"/lines/{line.pk}/accept/" in dashboard_b

    auditor = _client(region.auditor).get("/lines/").content.decode()
    assert "/lines/propose/" not in auditor and f"/lines/{line.pk}/accept/" not in auditor
    audit_line = _client(region.auditor).get(f"/lines/{line.pk}/").content.decode()
    assert f"/lines/{line.pk}/archive/" not in audit_line

    line_a = _client(region.operator_a).get(f"/lines/{line.pk}/").content.decode()
    assert f"/lines/{line.pk}/archive/" in line_a and "Waiting for BBB-DESK" in line_a


def test_console_forms_refuse_junk_with_a_message(region):
    client = _client(region.operator_a)
    for data in ({}, {"peer_desk": "x"}, {"peer_desk": str(2**40)}, {"peer_desk": "999999"}):
        response = client.post("/lines/propose/", data, follow=True)
        assert response.status_code == 200
        assert response.context["messages"]
    for data in ({}, {"crisis": "x"}, {"crisis": "-1"}, {"crisis": "999999"}):
        response = client.post("/lines/crisis-room/", data, follow=True)
        assert response.status_code == 200
        assert list(response.context["messages"])
    # Someone else's line: the 404 page, as for reading it.
    line = _proposed(region)
    assert _client(region.operator_c).post(f"/lines/{line.pk}/archive/").status_code == 404
    assert not HotlineChannel.objects.filter(status=ChannelStatus.ARCHIVED).exists()


def test_crisis_page_panel_offers_the_room_then_links_to_it(region):
    crisis = _crisis(region)
    page = _client(region.operator_a).get(f"/crises/{crisis.pk}/").content.decode()
    assert "Open the crisis room" in page
    assert "Open the crisis room" not in (
        _client(region.auditor).get(f"/crises/{crisis.pk}/").content.decode()
    )
    response = _client(region.operator_a).post(
        "/lines/crisis-room/", {"crisis": crisis.pk}, follow=True
    )
    room = HotlineChannel.objects.get(crisis_ref=crisis.reference)
    assert response.redirect_chain[-1][0] == f"/lines/{room.pk}/"
    page_b = _client(region.operator_b).get(f"/crises/{crisis.pk}/").content.decode()
    assert f"/lines/{room.pk}/invitation/accept/" in page_b
    page_a = _client(region.operator_a).get(f"/crises/{crisis.pk}/").content.decode()
    assert f'href="/lines/{room.pk}/"' in page_a and "Open the crisis room" not in page_a
