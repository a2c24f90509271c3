import pytest
from django.core.management import call_command

from hotline.models import ChannelMember, HotlineChannel, Message

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        sorted(HotlineChannel.objects.values_list("id", "name", "kind", "status", "last_seq")),
        sorted(ChannelMember.objects.values_list("channel_id", "desk__code")),
        sorted(Message.objects.values_list("channel_id", "seq", "body", "priority")),
    )


def test_seed_demo_makes_hotlines_once():
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first
    channels, _members, messages = first
    assert {kind for _, _, kind, _, _ in channels} == {"broadcast", "bilateral", "crisis_room"}
    assert len(messages) == 5  # broadcast 1, bilateral 2, the demo crisis room 2
