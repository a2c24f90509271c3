"""An AMBER+STRICT forward and a desk joining the other line at the same moment: the
forward's check of the other line's desks and the recipients its send records are one
locked step, so the forward either goes before the desk joins or is refused after."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connection, transaction

from core.errors import PermissionDenied
from hotline.models import Message
from hotline.services.channels import add_member, open_crisis_room
from hotline.services.messages import forward_message
from tests.hotline.conftest import send

pytestmark = pytest.mark.django_db(transaction=True)


def waiting_on_a_lock() -> int:
    """Backends of this database waiting for a lock another transaction holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_a_desk_joining_during_a_strict_forward_never_receives_it(region):
    first = open_crisis_room(
        by=region.coordinator, name="A, B", desk_ids=[region.desk_a.pk, region.desk_b.pk]
    )
    second = open_crisis_room(by=region.coordinator, name="A only", desk_ids=[region.desk_a.pk])
    strict, _ = send(region.operator_a, first, "strict news", tlp="AMBER+STRICT")
    joined, commit = threading.Event(), threading.Event()
    outcome: dict = {}

    def join_desk_c():  # the coordinator adds C (another state), commits when told
        try:
            with transaction.atomic():
                add_member(by=region.coordinator, channel_id=second.pk, desk_id=region.desk_c.pk)
                joined.set()
                assert commit.wait(30)
        finally:
            connection.close()

    def forward():
        try:
            outcome["sent"] = forward_message(
                by=region.operator_a,
                message=strict,
                to_channel_id=second.pk,
                client_msg_id=uuid.uuid4(),
            )
        except PermissionDenied as refusal:
            outcome["refused"] = refusal
        finally:
            connection.close()

    joiner = threading.Thread(target=join_desk_c)
    joiner.start()
    assert joined.wait(30)
    forwarder = threading.Thread(target=forward)
    forwarder.start()
    # The forward now waits for the line's lock (held by the joining transaction).
    give_up = time.monotonic() + 30
    while not waiting_on_a_lock():
        assert time.monotonic() < give_up, "the forward never waited for the line"
        assert forwarder.is_alive(), outcome
    commit.set()
    joiner.join(30)
    forwarder.join(30)

    assert "sent" not in outcome, "the strict message reached a desk outside its organisations"
    assert outcome["refused"].code == "tlp_amber_strict"
    assert outcome["refused"].details["desks"] == [region.desk_c.code]
    assert not Message.objects.filter(channel=second, body__contains="strict news").exists()
