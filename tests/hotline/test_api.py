"""The hotline REST API: the same services as the websocket, same rules."""

import uuid

import pytest

from hotline.models import ChannelEvent, ChannelMember, HotlineChannel, Message, Receipt
from tests.hotline.conftest import send
from tests.support.api import assert_error

pytestmark = pytest.mark.django_db


def post_message(client, channel_id, body="hello", **extra):
    data = {"body": body, "client_msg_id": str(uuid.uuid4()), **extra}
    return client.post(f"/api/v1/channels/{channel_id}/messages/", data, format="json")


def test_propose_then_accept_a_bilateral_line(region, api_client):
    api_client.force_authenticate(region.operator_a)
    created = api_client.post(
        "/api/v1/channels/",
        {"kind": "bilateral", "desk": region.desk_a.pk, "peer_desk": region.desk_b.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    channel = created.json()
    assert channel["status"] == "proposed" and channel["proposed_by_desk"] == region.desk_a.pk
    assert {m["code"] for m in channel["members"]} == {"AAA-DESK", "BBB-DESK"}
    assert_error(post_message(api_client, channel["id"]), 409, "channel_not_active")
    # The proposer cannot accept its own proposal; the peer can.
    assert_error(api_client.post(f"/api/v1/channels/{channel['id']}/accept/"), 404)
    api_client.force_authenticate(region.operator_b)
    accepted = api_client.post(f"/api/v1/channels/{channel['id']}/accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == "active"
    kinds = list(
        ChannelEvent.objects.filter(channel_id=channel["id"]).values_list("kind", flat=True)
    )
    assert kinds == ["proposed", "accepted"]
    # A second open line between the same two desks is refused.
    again = api_client.post(
        "/api/v1/channels/",
        {"kind": "bilateral", "desk": region.desk_b.pk, "peer_desk": region.desk_a.pk},
        format="json",
    )
    assert_error(again, 409, "line_exists")


def test_send_is_idempotent_and_paged_by_seq(region, line_ab, api_client):
    api_client.force_authenticate(region.operator_a)
    client_msg_id = str(uuid.uuid4())
    first = post_message(api_client, line_ab.pk, "one", client_msg_id=client_msg_id)
    assert first.status_code == 201 and first.json()["seq"] == 1
    again = post_message(api_client, line_ab.pk, "one", client_msg_id=client_msg_id)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    for n in range(2, 6):
        assert post_message(api_client, line_ab.pk, f"m{n}").json()["seq"] == n
    api_client.force_authenticate(region.operator_b)
    page = api_client.get(f"/api/v1/channels/{line_ab.pk}/messages/?after_seq=1&limit=2").json()
    assert [m["seq"] for m in page["results"]] == [2, 3]
    assert page["has_more"] is True and page["next_after_seq"] == 3
    rest = api_client.get(f"/api/v1/channels/{line_ab.pk}/messages/?after_seq=3").json()
    assert [m["body"] for m in rest["results"]] == ["m4", "m5"] and rest["has_more"] is False
    assert_error(api_client.get(f"/api/v1/channels/{line_ab.pk}/messages/?after_seq=x"), 400)


def test_correction_references_the_corrected_message(region, line_ab, api_client):
    api_client.force_authenticate(region.operator_a)
    wrong = post_message(api_client, line_ab.pk, "12 casualties").json()
    fixed = post_message(api_client, line_ab.pk, "correction: 21", corrects=wrong["id"])
    assert fixed.status_code == 201 and fixed.json()["corrects"] == wrong["id"]
    assert_error(post_message(api_client, line_ab.pk, "x", corrects=999999), 400, "bad_correction")
    assert Message.objects.get(pk=wrong["id"]).body == "12 casualties"


def test_receipts_read_and_ack_by_seq(region, line_ab, api_client):
    send(region.operator_a, line_ab, "hi")
    api_client.force_authenticate(region.operator_b)
    url = f"/api/v1/channels/{line_ab.pk}"
    read = api_client.post(f"{url}/messages/1/read/", {}, format="json")
    assert read.status_code == 200 and read.json()["read_by"] == "op-b"
    ack = api_client.post(f"{url}/messages/1/ack/", {}, format="json").json()
    assert ack["acknowledged_by"] == "op-b" and ack["delivered_at"]
    assert_error(api_client.post(f"{url}/messages/9/ack/", {}, format="json"), 404)
    api_client.force_authenticate(region.operator_a)
    receipts = api_client.get(f"{url}/receipts/").json()
    assert [(r["seq"], r["desk"], r["acknowledged_by"]) for r in receipts] == [
        (1, region.desk_b.pk, "op-b")
    ]


def test_delivered_up_to_seq(region, line_ab, api_client):
    for n in range(3):
        send(region.operator_a, line_ab, f"{n}")
    api_client.force_authenticate(region.operator_b)
    response = api_client.post(
        f"/api/v1/channels/{line_ab.pk}/delivered/", {"up_to_seq": 2}, format="json"
    )
    assert response.status_code == 200
    assert sorted(Receipt.objects.values_list("message__seq", flat=True)) == [1, 2]


def test_a_third_state_gets_404_on_a_bilateral_line(region, line_ab, api_client):
    send(region.operator_a, line_ab, "x")
    api_client.force_authenticate(region.operator_c)
    url = f"/api/v1/channels/{line_ab.pk}"
    assert api_client.get("/api/v1/channels/").json()["results"] == []
    for response in [
        api_client.get(f"{url}/"),
        api_client.get(f"{url}/messages/"),
        post_message(api_client, line_ab.pk),
        api_client.get(f"{url}/receipts/"),
        api_client.post(f"{url}/messages/1/ack/", {}, format="json"),
        api_client.post(f"{url}/messages/1/read/", {}, format="json"),
        api_client.get(f"{url}/presence/"),
        api_client.get(f"{url}/events/"),
    ]:
        assert_error(response, 404)
    assert Message.objects.count() == 1 and Receipt.objects.count() == 0


def test_bad_send_input_is_400_and_writes_nothing(region, line_ab, api_client):
    api_client.force_authenticate(region.operator_a)
    url = f"/api/v1/channels/{line_ab.pk}/messages/"
    for body, field in [
        ({"body": "x"}, "client_msg_id"),
        ({"body": "x", "client_msg_id": "nope"}, "client_msg_id"),
        ({"body": "x", "client_msg_id": str(uuid.uuid4()), "priority": "panic"}, "priority"),
        ({"body": "x" * 16_001, "client_msg_id": str(uuid.uuid4())}, "body"),
    ]:
        error = assert_error(api_client.post(url, body, format="json"), 400, "invalid")
        assert field in error["details"]["fields"]
    assert Message.objects.count() == 0


def test_crisis_room_membership_changes_are_traced(region, room, api_client):
    api_client.force_authenticate(region.coordinator)
    url = f"/api/v1/channels/{room.pk}"
    assert_error(api_client.post(f"{url}/members/", {"desk": region.desk_a.pk}), 409)
    assert api_client.delete(f"{url}/members/{region.desk_c.pk}/").status_code == 204
    assert api_client.post(f"{url}/members/", {"desk": region.desk_c.pk}).status_code == 201
    rows = ChannelMember.objects.filter(channel=room, desk=region.desk_c).order_by("id")
    assert [(r.removed_at is not None, r.removed_by_id) for r in rows] == [
        (True, region.coordinator.pk),
        (False, None),
    ]
    events = [e["kind"] for e in api_client.get(f"{url}/events/").json()["results"]]
    assert events == ["created", "member_removed", "member_added"]
    api_client.force_authenticate(region.operator_a)
    assert_error(api_client.delete(f"{url}/members/{region.desk_b.pk}/"), 403, "coordinator_only")


def test_archived_channel_is_read_only(region, line_ab, api_client):
    api_client.force_authenticate(region.operator_a)
    assert api_client.post(f"/api/v1/channels/{line_ab.pk}/archive/").status_code == 200
    assert_error(post_message(api_client, line_ab.pk), 409, "channel_archived")
    assert api_client.get(f"/api/v1/channels/{line_ab.pk}/messages/").status_code == 200
    assert HotlineChannel.objects.get(pk=line_ab.pk).archived_at is not None


def test_broadcast_line_has_every_desk_and_only_coordinators_open_it(region, api_client):
    api_client.force_authenticate(region.operator_a)
    assert_error(api_client.post("/api/v1/channels/", {"kind": "broadcast"}), 403)
    api_client.force_authenticate(region.coordinator)
    channel = api_client.post("/api/v1/channels/", {"kind": "broadcast"}).json()
    assert len(channel["members"]) == 4
    assert_error(api_client.post("/api/v1/channels/", {"kind": "broadcast"}), 409, "line_exists")


def test_channel_list_query_count_is_constant(
    region, line_ab, room, api_client, django_assert_max_num_queries
):
    api_client.force_authenticate(region.operator_a)
    with django_assert_max_num_queries(5):
        results = api_client.get("/api/v1/channels/").json()["results"]
    assert [c["id"] for c in results] == [line_ab.pk, room.pk]
    for n in range(20):
        send(region.operator_a, room, f"{n}")
    with django_assert_max_num_queries(6):  # 5 + the read audit's record
        assert len(api_client.get(f"/api/v1/channels/{room.pk}/messages/").json()["results"]) == 20


def test_schema_lists_the_hotline_endpoints(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path in [
        "/api/v1/channels/",
        "/api/v1/channels/{id}/messages/",
        "/api/v1/channels/{id}/receipts/",
        "/api/v1/channels/{id}/messages/{seq}/ack/",
    ]:
        assert path in paths, path
