"""Protocol v1 over WebsocketCommunicator on the real Redis layer and fan-out hub."""

import json

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from hotline.models import ChannelEvent, Message, PresenceSession, Receipt
from hotline.protocol import CLIENT_FRAMES, MAX_FRAME_BYTES
from hotline.services.sequence import append_message
from tests.hotline.conftest import new_id

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def count(model, **filters) -> int:
    return model.objects.filter(**filters).count()


async def test_send_is_answered_after_commit_and_reaches_the_other_desk(region, line_ab, ws_client):
    a, b = await ws_client(region.operator_a), await ws_client(region.operator_b)
    assert await b.subscribe(line_ab.pk) == []
    sent = await a.send_message(line_ab.pk, "Vessel sighted at 12N 120E", priority="urgent")
    assert sent["seq"] == 1 and sent["duplicate"] is False and sent["channel"] == line_ab.pk
    assert await count(Message, pk=sent["id"], seq=1) == 1
    got = await b.expect("message")
    assert got["id"] == sent["id"] and got["seq"] == 1 and got["priority"] == "urgent"
    assert got["sender"] == "op-a" and got["sender_desk"] == region.desk_a.pk
    assert set(got) == {
        f.name for f in __import__("hotline.protocol").protocol.SERVER_FRAMES["message"].fields
    } | {"type"}


async def test_subscribe_replays_after_since_seq_in_order_then_streams_live(
    region, line_ab, ws_client
):
    a = await ws_client(region.operator_a)
    for n in range(1, 6):
        assert (await a.send_message(line_ab.pk, f"m{n}"))["seq"] == n
    b = await ws_client(region.operator_b)
    replayed = await b.subscribe(line_ab.pk, since_seq=2)
    assert [m["seq"] for m in replayed] == [3, 4, 5]
    assert [m["body"] for m in replayed] == ["m3", "m4", "m5"]
    await a.send_message(line_ab.pk, "m6")
    assert (await b.expect("message"))["seq"] == 6
    assert await b.ws.receive_nothing(timeout=0.3)


async def test_a_lost_event_is_filled_from_the_database(region, line_ab, ws_client):
    b = await ws_client(region.operator_b)
    await b.subscribe(line_ab.pk)

    @database_sync_to_async
    def send_unannounced():
        with transaction.atomic():  # committed, but the transport never hears of it
            append_message(
                channel_id=line_ab.pk,
                client_msg_id=new_id(),
                sender=region.operator_a,
                desk_ids=[region.desk_a.pk],
                body="lost in transit",
            )

    await send_unannounced()
    a = await ws_client(region.operator_a)
    await a.send_message(line_ab.pk, "after the loss")
    first, second = await b.expect("message"), await b.expect("message")
    assert (first["seq"], first["body"]) == (1, "lost in transit")
    assert (second["seq"], second["body"]) == (2, "after the loss")


async def test_same_client_msg_id_twice_returns_the_original(region, line_ab, ws_client):
    a = await ws_client(region.operator_a)
    client_msg_id = new_id()
    first = await a.send_message(line_ab.pk, "once", client_msg_id=client_msg_id)
    again = await a.send_message(line_ab.pk, "once", client_msg_id=client_msg_id)
    assert again["id"] == first["id"] and again["seq"] == first["seq"]
    assert again["duplicate"] is True
    assert await count(Message, channel=line_ab) == 1
    third = await a.send_message(line_ab.pk, "next")
    assert third["seq"] == 2  # the duplicate gave its number back


async def test_receipts_delivered_read_ack_reach_the_sender(region, line_ab, ws_client):
    a, b = await ws_client(region.operator_a), await ws_client(region.operator_b)
    await a.subscribe(line_ab.pk)
    sent = await a.send_message(line_ab.pk, "please confirm")
    await a.expect("message")  # own message, live
    await b.send(type="delivered", channel=line_ab.pk, up_to_seq=1, ref="d")
    assert (await b.expect("ok", ref="d"))["count"] == 1
    receipt = await a.expect("receipt")
    assert (
        receipt["delivered_at"]
        and receipt["read_at"] is None
        and receipt["desk"] == (region.desk_b.pk)
    )
    await b.send(type="read", message=sent["id"], ref="r")
    await b.expect("ok", ref="r")
    assert (await a.expect("receipt"))["read_at"]
    await b.send(type="ack", message=sent["id"], ref="k")
    await b.expect("ok", ref="k")
    receipt = await a.expect("receipt")
    assert receipt["acknowledged_at"] and receipt["by"] == "op-b"
    row = await database_sync_to_async(Receipt.objects.get)(message_id=sent["id"])
    assert row.acknowledged_by_id == region.operator_b.pk and row.desk_id == region.desk_b.pk
    # Acknowledging twice changes nothing and is not an error.
    await b.send(type="ack", message=sent["id"], ref="k2")
    await b.expect("ok", ref="k2")
    # The sender's own desk has no receipt to give.
    await a.send(type="ack", message=sent["id"], ref="own")
    assert (await a.expect("error", ref="own"))["code"] == "own_message"


async def test_unsubscribe_stops_the_stream(region, line_ab, ws_client):
    a, b = await ws_client(region.operator_a), await ws_client(region.operator_b)
    await b.subscribe(line_ab.pk)
    await b.send(type="unsubscribe", channel=line_ab.pk, ref="u")
    await b.expect("unsubscribed", ref="u")
    await a.send_message(line_ab.pk, "nobody listening")
    assert await b.ws.receive_nothing(timeout=0.5)
    assert [m["seq"] for m in await b.subscribe(line_ab.pk, since_seq=0)] == [1]


async def test_a_removed_desk_stops_receiving(region, room, ws_client):
    from hotline.services.channels import remove_member

    c = await ws_client(region.operator_c)
    await c.subscribe(room.pk)
    await database_sync_to_async(remove_member)(
        by=region.coordinator, channel_id=room.pk, desk_id=region.desk_c.pk
    )
    gone = await c.expect("unsubscribed", channel=room.pk)
    assert gone["reason"] == "removed"
    a = await ws_client(region.operator_a)
    await a.send_message(room.pk, "not for C any more")
    await c.send(type="subscribe", channel=room.pk, ref="again")
    assert (await c.expect("error", ref="again"))["code"] == "channel_not_found"


async def test_presence_and_ping(region, line_ab, ws_client):
    a = await ws_client(region.operator_a)
    await a.subscribe(line_ab.pk)
    b = await ws_client(region.operator_b)
    frame = await a.expect("presence", desk=region.desk_b.pk)
    assert frame["online"] is True
    await a.send(type="presence", channel=line_ab.pk, ref="p")
    rows = [await a.expect("presence"), await a.expect("presence")]
    assert {(r["desk"], r["online"]) for r in rows} == {
        (region.desk_a.pk, True),
        (region.desk_b.pk, True),
    }
    await b.close()
    gone = await a.expect("presence", desk=region.desk_b.pk)
    assert gone["online"] is False and gone["last_seen_at"]
    assert await count(PresenceSession, desk=region.desk_b) == 0
    await a.send(type="ping", ref=7)
    assert (await a.expect("pong"))["ref"] == 7


async def test_a_third_state_cannot_subscribe_send_or_ack_on_a_bilateral_line(
    region, line_ab, ws_client
):
    a, c = await ws_client(region.operator_a), await ws_client(region.operator_c)
    sent = await a.send_message(line_ab.pk, "between A and B")
    await c.send(type="subscribe", channel=line_ab.pk, ref=1)
    assert (await c.expect("error", ref=1))["code"] == "channel_not_found"
    await c.send(type="send", channel=line_ab.pk, body="x", client_msg_id=new_id(), ref=2)
    assert (await c.expect("error", ref=2))["code"] == "channel_not_found"
    for n, kind in enumerate(["ack", "read"], start=3):
        await c.send(type=kind, message=sent["id"], ref=n)
        assert (await c.expect("error", ref=n))["code"] == "message_not_found"
    await c.send(type="delivered", channel=line_ab.pk, up_to_seq=1, ref=5)
    assert (await c.expect("error", ref=5))["code"] == "channel_not_found"
    await c.send(type="presence", channel=line_ab.pk, ref=6)
    assert (await c.expect("error", ref=6))["code"] == "channel_not_found"
    assert await count(Message, channel=line_ab) == 1
    assert await count(Receipt) == 0


async def test_auditor_reads_but_cannot_send(region, line_ab, ws_client):
    a = await ws_client(region.operator_a)
    await a.send_message(line_ab.pk, "for the record")
    auditor = await ws_client(region.auditor)
    assert [m["body"] for m in await auditor.subscribe(line_ab.pk)] == ["for the record"]
    await auditor.send(type="send", channel=line_ab.pk, body="x", client_msg_id=new_id(), ref=1)
    assert (await auditor.expect("error", ref=1))["code"] == "not_a_member"


BAD_FRAMES = [
    ({"type": "send", "channel": 1, "body": "x"}, "missing_field"),
    ({"type": "send", "channel": 0, "body": "x", "client_msg_id": new_id()}, "bad_field"),
    ({"type": "send", "body": "x", "client_msg_id": "not-a-uuid"}, "missing_field"),
    ({"type": "send", "channel": "1", "body": "x", "client_msg_id": "x"}, "bad_field"),
    ({"type": "send", "channel": 1, "body": "x", "client_msg_id": "nope"}, "bad_field"),
    ({"type": "send", "channel": 1, "body": 5, "client_msg_id": new_id()}, "bad_field"),
    (
        {
            "type": "send",
            "channel": 1,
            "body": "x",
            "client_msg_id": new_id(),
            "priority": "panic",
        },
        "bad_field",
    ),
    ({"type": "subscribe", "channel": 1, "since_seq": -1}, "bad_field"),
    ({"type": "subscribe"}, "missing_field"),
    ({"type": "ack", "message": True}, "bad_field"),
    ({"type": "delivered", "channel": 1}, "missing_field"),
    ({"type": "self_destruct"}, "unknown_type"),
]


async def test_bad_frames_get_an_error_and_write_nothing(region, line_ab, ws_client):
    a = await ws_client(region.operator_a)
    for n, (frame, code) in enumerate(BAD_FRAMES):
        await a.send(**frame, ref=n)
        error = await a.expect("error")
        assert (error["code"], error["ref"]) == (code, n) and error["message"], frame
    assert await count(Message) == 0 and await count(Receipt) == 0
    assert (await a.send_message(line_ab.pk, "the connection lives"))["seq"] == 1


async def test_oversized_empty_and_too_long_bodies(region, line_ab, ws_client):
    a = await ws_client(region.operator_a)
    frame = {"type": "send", "channel": line_ab.pk, "client_msg_id": new_id(), "ref": "big"}
    await a.ws.send_to(text_data=json.dumps({**frame, "body": "x" * MAX_FRAME_BYTES}))
    assert (await a.expect("error"))["code"] == "frame_too_large"
    await a.send(**{**frame, "body": "y" * 16_001})
    assert (await a.expect("error", ref="big"))["code"] == "body_too_long"
    await a.send(**{**frame, "body": "   "})
    assert (await a.expect("error", ref="big"))["code"] == "empty_body"
    await a.ws.send_to(text_data="{oops")
    assert (await a.expect("error"))["code"] == "bad_json"
    assert await count(Message) == 0
    assert (await a.send_message(line_ab.pk, "still alive"))["seq"] == 1


async def test_flooding_is_refused_then_closed_and_others_are_unaffected(
    region, line_ab, ws_client, settings
):
    settings.HOTLINE_WS_RATE_PER_SECOND = 5
    settings.HOTLINE_WS_BURST = 5
    settings.HOTLINE_WS_MAX_VIOLATIONS = 10
    flooder, b = await ws_client(region.operator_a), await ws_client(region.operator_b)
    await b.subscribe(line_ab.pk)
    for n in range(40):
        await flooder.send(type="ping", ref=n)
    frames = []
    while True:
        out = await flooder.ws.receive_output(timeout=5)
        if out["type"] == "websocket.close":
            assert out["code"] == 4429
            break
        frames.append(json.loads(out["text"]))
    assert [f["type"] for f in frames].count("pong") <= 6
    assert any(f.get("code") == "rate_limited" for f in frames)
    # The other desk's connection still works.
    a2 = await ws_client(region.supervisor_a)
    await a2.send_message(line_ab.pk, "line still open")
    assert (await b.expect("message"))["body"] == "line still open"


async def test_archived_channel_is_read_only(region, line_ab, ws_client):
    from hotline.services.channels import archive_channel

    a = await ws_client(region.operator_a)
    await a.send_message(line_ab.pk, "last words")
    await database_sync_to_async(archive_channel)(by=region.coordinator, channel_id=line_ab.pk)
    await a.send(type="send", channel=line_ab.pk, body="x", client_msg_id=new_id(), ref=1)
    assert (await a.expect("error", ref=1))["code"] == "channel_archived"
    assert [m["body"] for m in await a.subscribe(line_ab.pk)] == ["last words"]
    assert await count(ChannelEvent, channel=line_ab, kind="archived") == 1


async def test_every_client_frame_type_is_exercised_here():
    import pathlib

    text = pathlib.Path(__file__).read_text()
    for frame_type in CLIENT_FRAMES:
        assert f'type="{frame_type}"' in text or f'"type": "{frame_type}"' in text, frame_type


async def test_line_check_answered_over_the_socket_sends_line_status(region, line_ab, ws_client):
    from hotline.services.line_checks import send_line_check

    a, b = await ws_client(region.operator_a), await ws_client(region.operator_b)
    await a.subscribe(line_ab.pk)
    check = await database_sync_to_async(send_line_check)(channel_id=line_ab.pk)
    probe = await a.expect("message", kind="line_check")
    assert probe["id"] == check.message_id and probe["sender_desk"] is None
    for n, desk in enumerate((a, b)):
        await desk.send(type="ack", message=probe["id"], ref=n)
        await desk.expect("ok", ref=n)
    status = await a.expect("line_status")
    assert status["line_status"] == "ok" and status["last_check_ok_at"]
