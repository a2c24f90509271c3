"""Demo hotlines: the regional broadcast line, a Thailand-Cambodia bilateral line, and the
demo crisis's room, each with a few messages. Idempotent (found by name; messages by their
fixed client ids)."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.db import transaction

from directory.models import Desk
from hotline.models import ChannelKind, ChannelStatus, HotlineChannel
from hotline.services.channels import open_broadcast_channel, set_up_bilateral_channel
from hotline.services.messages import send_message

NAMESPACE = uuid.UUID("5a0c1f7e-6a53-4f0e-9a55-6c1e3f0d2b10")


def _channel(name: str, kind: str, create):
    found = (
        HotlineChannel.objects.filter(name=name, kind=kind)
        .exclude(status=ChannelStatus.ARCHIVED)
        .first()
    )
    return found or create()


def _say(user, channel, n: int, body: str, priority: str = "routine") -> None:
    client_msg_id = uuid.uuid5(NAMESPACE, f"{channel.name}/{n}")
    send_message(
        by=user, channel_id=channel.pk, body=body, client_msg_id=client_msg_id, priority=priority
    )


@transaction.atomic
def seed() -> list:
    User = get_user_model()
    desks = {
        d.code: d
        for d in Desk.objects.filter(
            code__in=["THA-DDPM", "KHM-NCDM", "PHL-NDRRMC", "VNM-VDDMA", "AHA"]
        )
    }
    if len(desks) < 5:
        return []  # the crisis demo (directory) has not run
    coordinator = User.objects.get(username="coordinator")
    tha, khm = (User.objects.get(username=u) for u in ("tha-operator", "khm-operator"))

    broadcast = _channel(
        "Regional broadcast", ChannelKind.BROADCAST, lambda: open_broadcast_channel(by=coordinator)
    )
    _say(coordinator, broadcast, 1, "Monthly line checks run on every hotline today.")

    name = "THA-DDPM ⇄ KHM-NCDM"
    line = _channel(
        name,
        ChannelKind.BILATERAL,
        lambda: set_up_bilateral_channel(
            by=coordinator,
            desk_id=desks["THA-DDPM"].pk,
            peer_desk_id=desks["KHM-NCDM"].pk,
            name=name,
        ),
    )
    _say(tha, line, 1, "Flooding on the Mekong near the border crossing; road closed.")
    _say(khm, line, 2, "Received. Our side is open; we will reroute trucks.", "urgent")

    # The demo crisis's room, opened as a protocol level would open it.
    from crisis.demo_crises import TITLE
    from crisis.models import Crisis
    from hotline.services.crisis_rooms import open_room_for_crisis

    crisis = Crisis.objects.filter(title=TITLE).first()
    if crisis is not None:
        room = open_room_for_crisis(crisis=crisis, level={})
        mys = User.objects.get(username="mys-operator")
        _say(tha, room, 1, "Oil sheen 2 nm east of the collision site; booms requested.", "flash")
        _say(mys, room, 2, "MMEA vessel on scene in 40 minutes; we take the northern sector.")
    return []
