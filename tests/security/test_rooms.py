"""Crisis rooms need consent and have caps (finding 5); auditors and superusers
archiving a bilateral line get a clear refusal, not a 500 (finding 8)."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model

from hotline.models import ChannelEvent, ChannelMember, HotlineChannel, RoomInvitation
from hotline.services.channels import set_up_bilateral_channel
from tests.crisis.test_api_basics import assert_error
from tests.factories import make_desk, make_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(region):
    """An active bilateral line between the desks of states A and B."""
    return set_up_bilateral_channel(
        by=region.coordinator, desk_id=region.desk_a.pk, peer_desk_id=region.desk_b.pk
    )


def open_room(client, desks, **extra):
    data = {"kind": "crisis_room", "name": "Flood", "desks": desks, **extra}
    return client.post("/api/v1/channels/", data, format="json")


def members(channel_id) -> set[int]:
    return set(
        ChannelMember.objects.filter(channel_id=channel_id, removed_at__isnull=True).values_list(
            "desk_id", flat=True
        )
    )


def test_a_national_desk_invites_other_states_they_join_only_on_consent(region, api_client):
    api_client.force_authenticate(region.operator_a)
    created = open_room(api_client, [region.desk_a.pk, region.desk_b.pk, region.desk_c.pk])
    assert created.status_code == 201, created.content
    room_id = created.json()["id"]
    assert members(room_id) == {region.desk_a.pk, region.centre.pk}
    assert set(
        RoomInvitation.objects.filter(channel_id=room_id).values_list("desk", flat=True)
    ) == {
        region.desk_b.pk,
        region.desk_c.pk,
    }

    # Invited, B sees nothing of the room yet, and cannot send on it.
    api_client.force_authenticate(region.operator_b)
    assert_error(api_client.get(f"/api/v1/channels/{room_id}/"), 404)
    message = {"body": "hi", "client_msg_id": str(uuid.uuid4())}
    assert_error(api_client.post(f"/api/v1/channels/{room_id}/messages/", message), 404)
    listed = api_client.get("/api/v1/channels/invitations/").json()
    assert [(i["channel"], i["desk"]) for i in listed] == [(room_id, region.desk_b.pk)]

    # B accepts: a member, traced; C declines: stays out, traced.
    joined = api_client.post(f"/api/v1/channels/{room_id}/join/", {}, format="json")
    assert joined.status_code == 200, joined.content
    assert region.desk_b.pk in members(room_id)
    assert api_client.post(f"/api/v1/channels/{room_id}/messages/", message).status_code == 201
    api_client.force_authenticate(region.operator_c)
    declined = api_client.post(f"/api/v1/channels/{room_id}/decline/", {}, format="json")
    assert declined.status_code == 204, declined.content
    assert region.desk_c.pk not in members(room_id)
    kinds = list(ChannelEvent.objects.filter(channel_id=room_id).values_list("kind", flat=True))
    assert kinds == ["created", "member_added", "invitation_declined"]
    # Answered: nothing left to accept.
    assert_error(api_client.post(f"/api/v1/channels/{room_id}/join/", {}), 404, "no_invitation")


def test_only_the_invited_desk_may_answer(region, api_client):
    api_client.force_authenticate(region.operator_a)
    room_id = open_room(api_client, [region.desk_a.pk, region.desk_b.pk]).json()["id"]
    api_client.force_authenticate(region.operator_c)
    assert_error(api_client.post(f"/api/v1/channels/{room_id}/join/", {}), 404, "no_invitation")
    assert_error(api_client.post("/api/v1/channels/99999999/join/", {}), 404)
    assert_error(api_client.post("/api/v1/channels/abc/join/", {}), 404)
    assert members(room_id) == {region.desk_a.pk, region.centre.pk}


def test_a_desk_cannot_open_a_room_without_its_own_desk(region, api_client):
    api_client.force_authenticate(region.operator_a)
    response = open_room(api_client, [region.desk_b.pk, region.desk_c.pk])
    assert_error(response, 403, "coordinator_only")
    assert not HotlineChannel.objects.exists()


def test_the_coordinator_puts_any_desks_in_at_once(region, api_client):
    api_client.force_authenticate(region.coordinator)
    created = open_room(api_client, [region.desk_a.pk, region.desk_b.pk, region.desk_c.pk])
    assert created.status_code == 201, created.content
    assert len(members(created.json()["id"])) == 4
    assert not RoomInvitation.objects.exists()


def test_the_member_list_is_capped(region, api_client, settings):
    settings.HOTLINE_ROOM_MAX_MEMBERS = 3
    api_client.force_authenticate(region.coordinator)
    body = assert_error(
        open_room(api_client, [region.desk_a.pk, region.desk_b.pk, region.desk_c.pk]),
        400,
        "too_many_desks",
    )
    assert body["details"] == {"limit": 3, "count": 4}
    assert not HotlineChannel.objects.exists()
    # Adding past the cap is refused too.
    room_id = open_room(api_client, [region.desk_a.pk, region.desk_b.pk]).json()["id"]
    added = api_client.post(f"/api/v1/channels/{room_id}/members/", {"desk": region.desk_c.pk})
    assert_error(added, 409, "room_full")


def test_accepting_into_a_full_room_is_refused(region, api_client, settings):
    extra_state = make_state("DDD")
    extra = make_desk(extra_state, code="DDD-DESK")
    api_client.force_authenticate(region.operator_a)
    room_id = open_room(api_client, [region.desk_a.pk, region.desk_b.pk, extra.pk]).json()["id"]
    api_client.force_authenticate(region.operator_b)
    assert api_client.post(f"/api/v1/channels/{room_id}/join/", {}).status_code == 200
    settings.HOTLINE_ROOM_MAX_MEMBERS = 3
    from tests.factories import make_person

    api_client.force_authenticate(make_person(extra))
    assert_error(api_client.post(f"/api/v1/channels/{room_id}/join/", {}), 409, "room_full")
    assert extra.pk not in members(room_id)


@pytest.mark.parametrize("seconds", [10, 59, 86401, 10**12])
def test_the_flash_deadline_is_bounded(region, api_client, seconds):
    api_client.force_authenticate(region.coordinator)
    response = open_room(api_client, [region.desk_a.pk], ack_deadline_seconds=seconds)
    body = assert_error(response, 400, "bad_deadline")
    assert body["details"]["min"] == 60 and body["details"]["max"] == 86400
    assert not HotlineChannel.objects.exists()


def test_a_flash_deadline_within_bounds_is_kept(region, api_client):
    api_client.force_authenticate(region.coordinator)
    response = open_room(api_client, [region.desk_a.pk], ack_deadline_seconds=60)
    assert response.status_code == 201, response.content
    assert response.json()["ack_deadline_seconds"] == 60


def test_an_auditor_archiving_a_bilateral_line_gets_403(region, line, api_client):
    api_client.force_authenticate(region.auditor)
    assert_error(api_client.post(f"/api/v1/channels/{line.pk}/archive/"), 403, "read_only")
    line.refresh_from_db()
    assert line.status == "active"


def test_a_superuser_archiving_a_bilateral_line_gets_403(region, line, api_client):
    boss = get_user_model().objects.create_superuser("boss", password="pw-for-tests")
    api_client.force_authenticate(boss)
    assert_error(api_client.post(f"/api/v1/channels/{line.pk}/archive/"), 403, "read_only")
    line.refresh_from_db()
    assert line.status == "active"
