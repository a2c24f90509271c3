"""A protocol level with the open_crisis_room action opens the crisis's room, once."""

import pytest
from django.db import transaction

from crisis.models import Crisis, TimelineEntry
from crisis.services.escalation import start_escalation
from hotline.models import ChannelKind, HotlineChannel
from tests.crisis.escalation_support import AFFECTED, REGION, make_crisis, make_protocol

pytestmark = pytest.mark.django_db


def start(crisis):
    with transaction.atomic():
        start_escalation(crisis=Crisis.objects.select_for_update().get(pk=crisis.pk))


def test_entering_the_level_opens_one_room_with_the_parties(region):
    version = make_protocol(levels=({**AFFECTED, "actions": ["open_crisis_room"]}, REGION))
    crisis = make_crisis(region, version, start=False)
    crisis.affected_states.add(region.state_b)
    start(crisis)

    room = HotlineChannel.objects.get(kind=ChannelKind.CRISIS_ROOM, crisis_ref=crisis.reference)
    members = set(room.members.filter(removed_at__isnull=True).values_list("desk__code", flat=True))
    assert members == {"AAA-DESK", "BBB-DESK", "RCC"}  # lead, affected, regional centre
    entered = TimelineEntry.objects.get(crisis=crisis, kind="level_entered")
    assert entered.payload["actions_done"] == ["open_crisis_room"]

    start(crisis)  # the ladder starts again (re-escalation): the room is reused
    assert HotlineChannel.objects.filter(crisis_ref=crisis.reference).count() == 1


def test_a_level_without_the_action_opens_nothing(region):
    crisis = make_crisis(region, make_protocol())
    assert not HotlineChannel.objects.filter(crisis_ref=crisis.reference).exists()
