"""A room of an exercise crisis is an exercise line: every message on it carries the mark
(live frame, replay, REST, console), real lines' messages do not, and the flag stays."""

import pytest
from channels.db import database_sync_to_async
from django.db import DatabaseError, transaction

from crisis.models import Crisis
from crisis.services.escalation import start_escalation
from hotline.models import ChannelKind, HotlineChannel
from hotline.services.channels import open_crisis_room
from tests.crisis.escalation_support import AFFECTED, REGION, make_crisis, make_protocol
from tests.hotline.conftest import send

MARK = "EXERCISE"


def drill_room(region) -> HotlineChannel:
    """The room a protocol level opens for an exercise crisis of A (and B)."""
    version = make_protocol(levels=({**AFFECTED, "actions": ["open_crisis_room"]}, REGION))
    crisis = make_crisis(region, version, start=False, exercise=True)
    crisis.affected_states.add(region.state_b)
    with transaction.atomic():
        start_escalation(crisis=Crisis.objects.select_for_update().get(pk=crisis.pk))
    return HotlineChannel.objects.get(kind=ChannelKind.CRISIS_ROOM, crisis_ref=crisis.reference)


@pytest.mark.django_db
def test_rooms_of_exercise_crises_are_exercise_lines_for_good(region, line_ab):
    room = drill_room(region)
    assert room.exercise is True and room.name.startswith("EXERCISE ")
    assert line_ab.exercise is False
    # a room a person opens for the drill's reference is a drill room too
    by_hand = open_crisis_room(
        by=region.coordinator,
        name="Drill side room",
        desk_ids=[region.desk_a.pk, region.desk_b.pk],
        crisis_ref=room.crisis_ref,
    )
    assert by_hand.exercise is True
    with pytest.raises(DatabaseError, match="never changed"), transaction.atomic():
        HotlineChannel.objects.filter(pk=room.pk).update(exercise=False)


@pytest.mark.django_db
def test_messages_in_an_exercise_room_carry_the_mark_over_rest_and_console(
    region, line_ab, api_client, client
):
    room = drill_room(region)
    drill, _ = send(region.operator_a, room, "Drill: wave at 10:40")
    real, _ = send(region.operator_a, line_ab, "Real: ferry overdue")
    api_client.force_authenticate(region.operator_b)
    posted = api_client.post(
        f"/api/v1/channels/{room.pk}/messages/",
        {"body": "Drill: BBB standing by", "client_msg_id": "6f1c1c38-8a47-4e57-9d0c-0c3d3a1e0d11"},
        format="json",
    )
    assert posted.status_code == 201, posted.content
    assert posted.json()["exercise"] is True
    listed = api_client.get(f"/api/v1/channels/{room.pk}/messages/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [m["exercise"] for m in rows] == [True, True]
    real_rows = api_client.get(f"/api/v1/channels/{line_ab.pk}/messages/").json()
    real_rows = real_rows["results"] if isinstance(real_rows, dict) else real_rows
    assert [m["exercise"] for m in real_rows] == [False]
    channel = api_client.get(f"/api/v1/channels/{room.pk}/").json()
    assert channel["exercise"] is True

    client.force_login(region.operator_b)
    page = client.get(f"/lines/{room.pk}/").content.decode()
    assert "EXERCISE EXERCISE EXERCISE" in page  # the page banner
    assert page.count(f'data-seq="{drill.seq}"') == 1
    assert page.count("data-exercise") >= 2  # each message of the room is marked
    plain = client.get(f"/lines/{line_ab.pk}/").content.decode()
    assert "data-exercise" not in plain
    assert real.seq == 1


@pytest.mark.django_db(transaction=True)
async def test_live_and_replayed_frames_carry_the_mark(region, line_ab, ws_client):
    room = await database_sync_to_async(drill_room)(region)
    a, b = await ws_client(region.operator_a), await ws_client(region.operator_b)
    assert await b.subscribe(room.pk) == []
    await b.subscribe(line_ab.pk)
    await a.send_message(room.pk, "Drill: evacuate zone 3")
    live = await b.expect("message", channel=room.pk)
    assert live["exercise"] is True and live["body"] == "Drill: evacuate zone 3"
    await a.send_message(line_ab.pk, "Real: vessel sighted")
    real = await b.expect("message", channel=line_ab.pk)
    assert real["exercise"] is False
    c = await ws_client(region.operator_b)
    [replayed] = await c.subscribe(room.pk)
    assert replayed["exercise"] is True
