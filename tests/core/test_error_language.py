"""A service's refusal reads in the person's language, on the console and over the API;
its machine code stays the same in every language (core/errors.py, docs/console.md,
"Languages")."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from paging.services.contacts import add_contact_method

pytestmark = pytest.mark.django_db

URL = "/api/v1/contact-methods/"
EN = "You already have this contact method."
TH = "คุณมีช่องทางติดต่อนี้อยู่แล้ว"
VI = "Bạn đã có phương thức liên lạc này."


@pytest.fixture
def has_a_method(region):
    add_contact_method(user=region.operator_a, kind="email", address="me@example.org")
    return region.operator_a


def _add_again(client, **headers):
    return client.post(
        URL, {"kind": "email", "address": "me@example.org"}, format="json", **headers
    )


def test_a_service_refusal_on_the_console_in_thai(client, has_a_method):
    client.force_login(has_a_method)
    client.post(reverse("console:switch-language"), {"language": "th", "next": "/"})
    response = client.post(
        reverse("console:contact-methods"),
        {"kind": "email", "address": "me@example.org", "label": ""},
        follow=True,
    )
    page = response.content.decode()
    assert TH in page and EN not in page


def test_a_service_refusal_over_the_api_follows_accept_language_with_the_same_code(
    api_client, has_a_method
):
    api_client.force_authenticate(has_a_method)
    english = _add_again(api_client)
    thai = _add_again(api_client, HTTP_ACCEPT_LANGUAGE="th")
    assert english.status_code == thai.status_code == 409
    assert english.json()["message"] == EN
    assert thai.json()["message"] == TH
    assert english.json()["code"] == thai.json()["code"] == "duplicate"
    # A serializer's own validation message too.
    refused = api_client.post(
        "/api/v1/channels/", {"kind": "crisis_room", "desks": []}, format="json",
        HTTP_ACCEPT_LANGUAGE="th",
    )  # fmt: skip
    assert refused.status_code == 400, refused.json()
    assert refused.json()["code"] == "invalid"
    assert "ห้องวิกฤต" in refused.json()["message"], refused.json()


def test_the_persons_remembered_language_wins_over_the_browsers_on_the_api(client, has_a_method):
    client.force_login(has_a_method)
    client.post(reverse("console:switch-language"), {"language": "vi", "next": "/"})
    response = client.post(
        URL,
        {"kind": "email", "address": "me@example.org"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 409
    assert response.json() == {"code": "duplicate", "message": VI, "details": {}}


async def _refusal_over_the_websocket(user, line_id: int, headers: list) -> dict:
    from channels.testing import WebsocketCommunicator

    from config.asgi import application
    from tests.hotline.conftest import token_for

    headers = [(b"authorization", f"Token {await token_for(user)}".encode()), *headers]
    ws = WebsocketCommunicator(application, "/ws/v1/", headers=headers)
    connected, _code = await ws.connect(timeout=5)
    assert connected
    assert (await ws.receive_json_from(timeout=5))["type"] == "hello"
    await ws.send_json_to(
        {"type": "send", "channel": line_id, "body": "x", "client_msg_id": str(uuid.uuid4()),
         "ref": "r1"}
    )  # fmt: skip
    frame = await ws.receive_json_from(timeout=5)
    await ws.disconnect()
    return frame


@pytest.mark.django_db(transaction=True)
async def test_a_refusal_over_the_websocket_is_said_in_the_connections_language(region):
    from channels.db import database_sync_to_async

    from hotline.services.channels import set_up_bilateral_channel

    line = await database_sync_to_async(set_up_bilateral_channel)(
        by=region.coordinator, desk_id=region.desk_a.pk, peer_desk_id=region.desk_b.pk
    )
    # Desk C is no member of A and B's line: refused, in the language of the handshake.
    english = await _refusal_over_the_websocket(region.operator_c, line.pk, [])
    thai = await _refusal_over_the_websocket(
        region.operator_c, line.pk, [(b"accept-language", b"th-TH,th;q=0.9,en;q=0.5")]
    )
    assert english["type"] == thai["type"] == "error"
    assert english["code"] == thai["code"] and english["ref"] == thai["ref"] == "r1"
    assert english["message"] in {"No such line.", "Your desk is not a member of this line."}
    assert thai["message"] in {"ไม่พบสายนี้", "โต๊ะของคุณไม่ได้เป็นสมาชิกของสายนี้"}, thai
