"""Websocket frames the server must refuse cleanly (findings 14, 6 and 11): a NUL in a
body is a clear error, every error echoes the client's ``ref``, oversize frames get
the documented answer, and an auditor's connection marks no desk online."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from hotline.models import Message
from hotline.protocol import MAX_FRAME_BYTES, MAX_READ_FRAME_BYTES
from hotline.selectors import presence_of
from hotline.services.channels import set_up_bilateral_channel
from tests.hotline.conftest import Client, new_id
from tests.hotline.conftest import _stop_hub as _hub_stopped  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def line(region):
    """An active bilateral line between the desks of states A and B."""
    return set_up_bilateral_channel(
        by=region.coordinator, desk_id=region.desk_a.pk, peer_desk_id=region.desk_b.pk
    )


async def test_a_nul_in_a_body_is_a_clear_error_and_nothing_is_written(region, line):
    client = await Client.open(region.operator_a)
    try:
        await client.send(
            type="send", channel=line.pk, body="a\x00b", client_msg_id=new_id(), ref="nul"
        )
        error = await client.expect("error", ref="nul")
        assert error["code"] == "bad_field" and error["details"] == {"field": "body"}, error
        assert "NUL" in error["message"]
        assert not await database_sync_to_async(Message.objects.filter(channel=line).exists)()
        await client.send_message(line.pk, "the connection still works")
    finally:
        await client.close()


async def test_rate_limited_frames_echo_the_ref(region, settings):
    settings.HOTLINE_WS_BURST = 1
    settings.HOTLINE_WS_RATE_PER_SECOND = 0.001
    client = await Client.open(region.operator_a)
    try:
        await client.send(type="ping", ref="first")
        await client.expect("pong", ref="first")
        await client.send(type="ping", ref="second")
        error = await client.expect("error")
        assert error["code"] == "rate_limited" and error["ref"] == "second", error
    finally:
        await client.close()


async def test_binary_and_malformed_frames_echo_the_ref(region):
    client = await Client.open(region.operator_a)
    try:
        await client.ws.send_to(bytes_data=json.dumps({"type": "ping", "ref": "bin"}).encode())
        error = await client.expect("error")
        assert error["code"] == "bad_frame" and error["ref"] == "bin", error
        await client.send(type=7, ref="typeless")
        error = await client.expect("error")
        assert error["code"] == "bad_frame" and error["ref"] == "typeless", error
    finally:
        await client.close()


async def test_a_frame_over_the_limit_gets_frame_too_large_with_its_ref(region):
    client = await Client.open(region.operator_a)
    try:
        await client.send(type="ping", ref="big", pad="x" * (MAX_FRAME_BYTES + 10))
        error = await client.expect("error")
        assert error["code"] == "frame_too_large" and error["ref"] == "big", error
        assert error["details"]["limit"] == MAX_FRAME_BYTES
        await client.send(type="ping", ref="after")
        await client.expect("pong", ref="after")  # the connection stays open
    finally:
        await client.close()


async def test_a_frame_far_over_the_limit_is_not_read_and_closes_1009(region):
    client = await Client.open(region.operator_a)
    await client.ws.send_to(text_data="x" * (MAX_READ_FRAME_BYTES + 1))
    while True:  # the hello may still be queued ahead of the close
        output = await client.ws.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            break
    assert output["code"] == 1009
    await client.ws.wait()


async def test_an_auditor_connection_marks_no_desk_online(region):
    client = await Client.open(region.auditor)
    try:
        await client.send(type="ping", ref="p")
        await client.expect("pong", ref="p")
        rows = await database_sync_to_async(presence_of)([region.centre.pk])
        assert rows[0]["online"] is False and rows[0]["last_seen_at"] is None, rows
    finally:
        await client.close()
    coordinator = await Client.open(region.coordinator)  # a writing role does count
    try:
        rows = await database_sync_to_async(presence_of)([region.centre.pk])
        assert rows[0]["online"] is True
    finally:
        await coordinator.close()
