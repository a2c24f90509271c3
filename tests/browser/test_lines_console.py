"""Lines through the console only (issue 13): propose a bilateral line, the other desk
accepts it, archive it; open a crisis's room from its page (the other state's desk is
invited and joins); see which desks of a line are online, live."""

import pytest

from crisis.services.crises import report_crisis, transition_crisis
from hotline.models import ChannelKind, ChannelStatus, HotlineChannel, InvitationStatus
from hotline.selectors import member_desk_ids
from hotline.services.channels import set_up_bilateral_channel
from tests.browser.conftest import outside_browser_loop, screenshot, wait_socket_open

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_propose_accept_and_archive_a_bilateral_line(people, region):
    a = people.new_page(region.operator_a)
    a.goto("/lines/")
    a.get_by_label("To the desk").select_option(label="BBB-DESK · State B")
    screenshot(a, "lines-propose")

    b = people.new_page(region.operator_b)
    b.goto("/lines/")
    wait_socket_open(b)
    assert b.locator("[data-proposal]").count() == 0

    a.get_by_role("button", name="Propose line").click()
    a.get_by_text("proposed: it opens when the other desk accepts").wait_for()
    line = HotlineChannel.objects.get(kind=ChannelKind.BILATERAL)
    assert line.status == ChannelStatus.PROPOSED
    proposal_a = a.locator(f"[data-proposal='{line.pk}']")
    assert "waiting for BBB-DESK to accept" in proposal_a.inner_text()
    assert proposal_a.get_by_role("button").count() == 0  # not A's to accept
    # B is no longer offered as a peer: the pair has a line.
    assert a.locator("#peer-desk option", has_text="BBB-DESK").count() == 0

    # A waits on the line's page; nothing can be sent yet.
    a.locator(f"[data-proposal='{line.pk}'] a").click()
    a.locator("#line-waits", has_text="Waiting for BBB-DESK to accept").wait_for()
    assert a.locator("#compose").count() == 0
    wait_socket_open(a)

    # B's list shows the proposal without a reload, with the button to accept it.
    proposal_b = b.locator(f"[data-proposal='{line.pk}']")
    proposal_b.get_by_role("button", name="Accept line").wait_for()
    screenshot(b, "lines-proposal-to-accept")
    # The dashboard lists it too.
    b.goto("/")
    b.locator("#panel-proposals").get_by_role("button", name="Accept line").click()
    b.locator("#compose").wait_for()
    line.refresh_from_db()
    assert line.status == ChannelStatus.ACTIVE

    # A's page, open all along, now offers the compose form; A and B talk on it.
    a.locator("#compose").wait_for()
    wait_socket_open(a)
    a.get_by_role("textbox", name="Message").fill("Line test from A")
    a.get_by_role("button", name="Send").click()
    b.locator("#conversation li", has_text="Line test from A").wait_for()

    # B archives it (a member desk may); both pages turn read-only.
    wait_socket_open(b)
    b.get_by_text("Archive this line…").click()
    b.get_by_role("button", name="Archive line").click()
    b.get_by_text("Line archived: it is read-only now.").wait_for()
    assert b.locator("#compose").count() == 0
    a.get_by_text("This line is archived: read-only.").wait_for()
    assert a.locator("#compose").count() == 0
    assert a.get_by_text("Archive this line…").count() == 0
    line.refresh_from_db()
    assert line.status == ChannelStatus.ARCHIVED
    assert a.locator("#conversation li", has_text="Line test from A").count() == 1
    screenshot(a, "line-archived")


def active_crisis(region):
    """Desk A reports a flood affecting A and B; A's supervisor activates it."""
    crisis = report_crisis(
        by=region.operator_a, desk=region.desk_a, category="flood", title="River flood",
        severity=4, affected_state_codes=["AAA", "BBB"],
    )  # fmt: skip
    return transition_crisis(
        by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="active"
    )


def test_open_a_crisis_room_from_the_crisis_page_and_join_it(people, region):
    crisis = outside_browser_loop(active_crisis, region)
    b = people.new_page(region.operator_b)
    b.goto(f"/crises/{crisis.pk}/")
    wait_socket_open(b)
    auditor = people.new_page(region.auditor)
    auditor.goto(f"/crises/{crisis.pk}/")
    assert auditor.get_by_role("button", name="Open the crisis room").count() == 0

    a = people.new_page(region.operator_a)
    a.goto(f"/crises/{crisis.pk}/")
    a.get_by_role("button", name="Open the crisis room").click()
    a.get_by_text("Crisis room opened").wait_for()
    room = HotlineChannel.objects.get(crisis_ref=crisis.reference)
    assert a.url.endswith(f"/lines/{room.pk}/")
    assert member_desk_ids(room) == {region.desk_a.pk, region.centre.pk}
    screenshot(a, "crisis-room-opened")

    # B's crisis page, open all along, shows the invitation live; B accepts and is in.
    panel = b.locator("#panel-room")
    panel.get_by_text("Your desk is invited to the room").wait_for()
    panel.get_by_role("button", name="Accept").click()
    b.get_by_text("Invitation accepted").wait_for()
    assert b.url.endswith(f"/lines/{room.pk}/")
    assert room.invitations.get().status == InvitationStatus.ACCEPTED
    assert region.desk_b.pk in member_desk_ids(room)

    # Back on the crisis page: a link to the room, no second room to open.
    a.goto(f"/crises/{crisis.pk}/")
    a.locator("#crisis-room-link").click()
    a.wait_for_url(f"**/lines/{room.pk}/")
    a.goto("/lines/")
    assert a.locator("#room-crisis").count() == 0  # the only crisis has its room


def test_presence_of_the_desks_on_a_line_live(people, region):
    line = outside_browser_loop(
        set_up_bilateral_channel,
        by=region.coordinator,
        desk_id=region.desk_a.pk,
        peer_desk_id=region.desk_b.pk,
    )
    a = people.new_page(region.operator_a)
    a.goto(f"/lines/{line.pk}/")
    wait_socket_open(a)
    a.wait_for_selector("#conversation[data-subscribed]", state="attached")
    own = a.locator(f"[data-presence-desk='{region.desk_a.pk}']")
    peer = a.locator(f"[data-presence-desk='{region.desk_b.pk}']")
    own.and_(a.locator("[data-online=true]")).wait_for()
    assert "BBB-DESK: offline" in peer.inner_text()

    # B opens the console (any page): A sees B come online without a reload.
    b = people.new_page(region.operator_b)
    b.goto("/")
    wait_socket_open(b)
    peer.and_(a.locator("[data-online=true]")).wait_for()
    assert "BBB-DESK: online" in peer.inner_text()
    screenshot(a, "line-presence-online")

    # B closes the console: offline, with when B was last seen.
    b.close()
    peer.and_(a.locator("[data-online=false]")).wait_for()
    assert "BBB-DESK: offline" in peer.inner_text()
    assert "last seen" in peer.locator("[data-last-seen]").inner_text()
    assert "UTC" in peer.locator("[data-last-seen]").inner_text()
    screenshot(a, "line-presence-offline")
