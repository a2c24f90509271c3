"""The hotline's figures in ``/metrics``: open websocket connections, messages sent and
delivered, fan-out lag; real sockets on the ASGI app, the real Redis fan-out."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client as HttpClient

from tests.hotline.conftest import send
from tests.support.metrics import TOKEN, Scrape

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def scrape() -> Scrape:
    response = HttpClient().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return Scrape(response.content.decode())


async def test_connections_messages_and_fanout_lag(region, line_ab, ws_client, settings):
    settings.METRICS_TOKEN = TOKEN
    before = await scrape()
    a = await ws_client(region.operator_a)
    b = await ws_client(region.operator_b)
    await b.subscribe(line_ab.pk)
    opened = await scrape()
    assert (
        opened.value("crisis_websocket_connections") - before.value("crisis_websocket_connections")
        == 2
    )

    await a.send_message(line_ab.pk, "over the socket", priority="urgent")
    await b.expect("message", body="over the socket")
    await sync_to_async(send)(region.operator_a, line_ab, "over REST's service")
    await b.expect("message", body="over REST's service")
    after = await scrape()

    def delta(name, **labels):
        return after.value(name, **labels) - before.value(name, **labels)

    assert delta("crisis_hotline_messages_sent_total", priority="urgent") == 1
    assert delta("crisis_hotline_messages_sent_total", priority="routine") == 1
    assert delta("crisis_hotline_messages_delivered_total") == 2  # to b; a did not subscribe
    assert delta("crisis_hotline_fanout_lag_seconds_count") == 2  # once per message, process
    assert 0 < delta("crisis_hotline_fanout_lag_seconds_sum") < 5

    await b.subscribe(line_ab.pk, since_seq=0)  # a replay from the database counts too
    replayed = await scrape()
    assert (
        replayed.value("crisis_hotline_messages_delivered_total")
        - after.value("crisis_hotline_messages_delivered_total")
        == 2
    )

    await a.close()
    await b.close()
    closed = await scrape()
    assert closed.value("crisis_websocket_connections") == before.value(
        "crisis_websocket_connections"
    )
