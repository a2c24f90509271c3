"""TLP markings on hotline messages: set at send time, shown everywhere, enforced on every
read and forward (``core.disclosure``)."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Permission
from django.urls import reverse

from directory.models import Role
from hotline.models import Message
from hotline.services.channels import add_member, open_crisis_room
from tests.factories import make_desk, make_person
from tests.hotline.conftest import send
from tests.support.api import assert_error

pytestmark = pytest.mark.django_db

SECRET = "Boarding party at 0400: RED only"


def post_message(client, channel_id, body="hello", **extra):
    data = {"body": body, "client_msg_id": str(uuid.uuid4()), **extra}
    return client.post(f"/api/v1/channels/{channel_id}/messages/", data, format="json")


def bodies(client, channel_id) -> list[str]:
    response = client.get(f"/api/v1/channels/{channel_id}/messages/")
    assert response.status_code == 200, response.content
    return [m["body"] for m in response.json()["results"]]


def test_a_message_is_amber_unless_marked_and_says_so(region, line_ab, api_client):
    api_client.force_authenticate(region.operator_a)
    plain = post_message(api_client, line_ab.pk, "routine traffic")
    assert plain.status_code == 201
    assert plain.json()["tlp"] == "AMBER" and plain.json()["tlp_label"] == "TLP:AMBER"
    clear = post_message(api_client, line_ab.pk, "public", tlp="CLEAR")
    assert clear.json()["tlp"] == "CLEAR" and clear.json()["tlp_label"] == "TLP:CLEAR"
    bad = post_message(api_client, line_ab.pk, "x", tlp="PURPLE")
    assert bad.status_code == 400 and "tlp" in bad.content.decode()
    assert Message.objects.filter(channel=line_ab).count() == 2


def test_red_stays_with_the_desks_of_the_line(region, line_ab, api_client):
    red, _ = send(region.operator_a, line_ab, SECRET, tlp="RED")
    send(region.operator_a, line_ab, "for everyone who sees the line")
    assert set(red.recipient_desks.values_list("pk", flat=True)) == {
        region.desk_a.pk,
        region.desk_b.pk,
    }
    for person in (region.operator_a, region.operator_b):
        api_client.force_authenticate(person)
        assert SECRET in bodies(api_client, line_ab.pk)
    # The regional centre sees every line, but is no recipient of a RED message.
    for person in (region.coordinator, region.auditor):
        api_client.force_authenticate(person)
        assert bodies(api_client, line_ab.pk) == ["for everyone who sees the line"]
        for verb in ("read", "ack"):
            refused = api_client.post(f"/api/v1/channels/{line_ab.pk}/messages/1/{verb}/")
            assert refused.status_code == 404
        receipts = api_client.get(f"/api/v1/channels/{line_ab.pk}/receipts/").json()
        assert all(r["seq"] != 1 for r in receipts)


def test_a_desk_added_later_does_not_see_earlier_red(region, api_client):
    room = open_crisis_room(
        by=region.coordinator,
        name="Room",
        desk_ids=[region.desk_a.pk, region.desk_b.pk],
    )
    send(region.operator_a, room, SECRET, tlp="RED")
    send(region.operator_a, room, "amber, for whoever is on the room", tlp="AMBER")
    add_member(by=region.coordinator, channel_id=room.pk, desk_id=region.desk_c.pk)
    api_client.force_authenticate(region.operator_c)
    assert bodies(api_client, room.pk) == ["amber, for whoever is on the room"]
    api_client.force_authenticate(region.operator_b)
    assert SECRET in bodies(api_client, room.pk)


def test_amber_strict_stays_in_the_recipients_organisations(region, line_ab, api_client):
    send(region.operator_a, line_ab, "strict", tlp="AMBER+STRICT")
    api_client.force_authenticate(region.operator_b)
    assert bodies(api_client, line_ab.pk) == ["strict"]
    # The regional centre is an organisation of its own: not a recipient's.
    api_client.force_authenticate(region.coordinator)
    assert bodies(api_client, line_ab.pk) == []


def test_forwards_take_the_narrower_marking_and_never_red(region, line_ab, api_client):
    other = open_crisis_room(
        by=region.coordinator,
        name="A and C",
        desk_ids=[region.desk_a.pk, region.desk_c.pk],
    )
    send(region.operator_a, line_ab, "amber news", tlp="AMBER")
    send(region.operator_a, line_ab, SECRET, tlp="RED")
    send(region.operator_a, line_ab, "strict news", tlp="AMBER+STRICT")
    api_client.force_authenticate(region.operator_a)

    def forward(seq, **extra):
        data = {"channel": other.pk, "client_msg_id": str(uuid.uuid4()), **extra}
        return api_client.post(
            f"/api/v1/channels/{line_ab.pk}/messages/{seq}/forward/", data, format="json"
        )

    widened = forward(1, tlp="CLEAR")
    assert widened.status_code == 201, widened.content
    assert widened.json()["tlp"] == "AMBER" and "amber news" in widened.json()["body"]
    assert widened.json()["body"].startswith("[TLP:AMBER] Forwarded from line")
    narrowed = forward(1, tlp="RED")
    assert narrowed.status_code == 201 and narrowed.json()["tlp"] == "RED"
    # Narrowing an AMBER message to AMBER+STRICT is the forwarder's own marking.
    strict = forward(1, tlp="AMBER+STRICT")
    assert strict.status_code == 201 and strict.json()["tlp"] == "AMBER+STRICT"
    assert_error(forward(2), 403, "tlp_red")
    # AMBER+STRICT may not reach desk C (another state) nor the regional centre.
    refused = assert_error(forward(3), 403, "tlp_amber_strict")
    assert refused["details"]["desks"] == [region.desk_c.code, region.centre.code]
    assert not Message.objects.filter(channel=other, body__contains=SECRET).exists()
    assert not Message.objects.filter(channel=other, body__contains="strict news").exists()


def test_amber_strict_forwards_inside_the_recipients_organisations(region, api_client):
    first = open_crisis_room(
        by=region.coordinator, name="A, B", desk_ids=[region.desk_a.pk, region.desk_b.pk]
    )
    second = open_crisis_room(by=region.coordinator, name="A only", desk_ids=[region.desk_a.pk])
    send(region.operator_a, first, "strict news", tlp="AMBER+STRICT")
    api_client.force_authenticate(region.operator_a)
    done = api_client.post(
        f"/api/v1/channels/{first.pk}/messages/1/forward/",
        {"channel": second.pk, "client_msg_id": str(uuid.uuid4())},
        format="json",
    )
    assert done.status_code == 201, done.content
    assert done.json()["tlp"] == "AMBER+STRICT"


def test_a_hidden_message_cannot_be_forwarded(region, line_ab, api_client):
    send(region.operator_a, line_ab, SECRET, tlp="RED")
    api_client.force_authenticate(region.coordinator)
    response = api_client.post(
        f"/api/v1/channels/{line_ab.pk}/messages/1/forward/",
        {"channel": line_ab.pk, "client_msg_id": str(uuid.uuid4())},
        format="json",
    )
    assert_error(response, 404, "message_not_found")


@pytest.mark.django_db(transaction=True)
async def test_websocket_frames_carry_the_marking_and_withhold_red(region, line_ab, ws_client):
    await database_sync_to_async(send)(region.operator_a, line_ab, SECRET, tlp="RED")
    op_b = await ws_client(region.operator_b)
    coordinator = await ws_client(region.coordinator)
    replayed = await op_b.subscribe(line_ab.pk)
    assert [(f["seq"], f["tlp"], f["tlp_label"]) for f in replayed] == [(1, "RED", "TLP:RED")]
    await coordinator.send(type="subscribe", channel=line_ab.pk, since_seq=0, ref="s")
    assert await coordinator.expect("withheld") == {
        "type": "withheld",
        "channel": line_ab.pk,
        "seq": 1,
    }
    assert (await coordinator.expect("subscribed"))["last_seq"] == 1

    op_a = await ws_client(region.operator_a)
    await op_a.subscribe(line_ab.pk)
    await op_a.send_message(line_ab.pk, "live red", tlp="RED")
    await op_a.send_message(line_ab.pk, "live green", tlp="GREEN")
    live = await op_b.expect("message", seq=2)
    assert live["body"] == "live red" and live["tlp"] == "RED" and "_recipients" not in live
    assert await coordinator.expect("withheld", seq=2)
    green = await coordinator.expect("message", seq=3)
    assert green["tlp_label"] == "TLP:GREEN"
    assert all("live red" not in str(f) and SECRET not in str(f) for f in coordinator.seen)


@pytest.mark.django_db(transaction=True)
async def test_a_bad_marking_on_the_socket_is_refused(region, line_ab, ws_client):
    op_a = await ws_client(region.operator_a)
    await op_a.send(
        type="send", channel=line_ab.pk, body="x", client_msg_id=str(uuid.uuid4()), tlp="BLUE"
    )
    error = await op_a.expect("error")
    assert error["code"] == "bad_field" and error["details"] == {"field": "tlp"}


def test_the_console_shows_the_label_and_hides_red(region, line_ab, client):
    send(region.operator_a, line_ab, SECRET, tlp="RED")
    send(region.operator_a, line_ab, "amber words")
    client.force_login(region.operator_b)
    page = client.get(reverse("console:line", args=[line_ab.pk])).content.decode()
    assert SECRET in page and 'class="tlp tlp-red"' in page and ">TLP:RED<" in page
    assert ">TLP:AMBER<" in page and 'id="tlp"' in page  # the marking chooser
    client.force_login(region.coordinator)
    page = client.get(reverse("console:line", args=[line_ab.pk])).content.decode()
    assert SECRET not in page and "amber words" in page


def test_the_regional_centre_is_one_organisation(region, api_client):
    """Every desk without a state is the regional centre: AMBER+STRICT sent in a crisis
    room (which always has the centre) reaches another centre desk's coordinator too."""
    room = open_crisis_room(
        by=region.coordinator, name="A, B", desk_ids=[region.desk_a.pk, region.desk_b.pk]
    )
    send(region.operator_a, room, "strict", tlp="AMBER+STRICT")
    send(region.operator_a, room, SECRET, tlp="RED")
    # A second centre desk, not on the room: it sees every line, as the centre does.
    second_centre = make_desk(None, code="RCC-2")
    watcher = make_person(second_centre, Role.COORDINATOR, username="coord-2")
    api_client.force_authenticate(watcher)
    assert bodies(api_client, room.pk) == ["strict"]
    api_client.force_authenticate(region.coordinator)  # on the room: a RED recipient
    assert bodies(api_client, room.pk) == ["strict", SECRET]


def test_the_admin_withholds_what_its_reader_may_not_read(region, line_ab, client):
    """Staff who are not on a RED message's desks see that it exists, not what it says,
    and a search of bodies does not find it."""
    red, _ = send(region.operator_a, line_ab, SECRET, tlp="RED")
    amber, _ = send(region.operator_a, line_ab, "Boarding party news for the region")
    viewer = Permission.objects.get(codename="view_message")
    staff = make_person(region.desk_c, Role.SUPERVISOR, username="ops-admin", is_staff=True)
    staff.user_permissions.add(viewer)
    client.force_login(staff)

    page = client.get(f"/admin/hotline/message/{red.pk}/change/")
    assert page.status_code == 200
    assert SECRET.encode() not in page.content and b"Withheld (TLP:RED)" in page.content
    page = client.get(f"/admin/hotline/message/{amber.pk}/change/")
    assert b"Boarding party news for the region" in page.content
    found = client.get("/admin/hotline/message/", {"q": "Boarding party"})
    assert found.status_code == 200
    assert f"/admin/hotline/message/{amber.pk}/change/".encode() in found.content
    assert f"/admin/hotline/message/{red.pk}/change/".encode() not in found.content
    # A recipient's desk reads it in the admin as anywhere else.
    on_a = make_person(region.desk_a, Role.SUPERVISOR, username="a-admin", is_staff=True)
    on_a.user_permissions.add(viewer)
    client.force_login(on_a)
    assert SECRET.encode() in client.get(f"/admin/hotline/message/{red.pk}/change/").content
