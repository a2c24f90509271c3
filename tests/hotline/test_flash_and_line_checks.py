"""Flash acknowledgement escalation and line checks, through the deadline engine's own
firing (the real-worker versions are in test_flash_worker.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deadlines.models import Deadline, DeadlineState
from deadlines.services import fire_deadline
from hotline.models import ChannelEvent, HotlineChannel, LineCheck
from hotline.services.escalation import FLASH_KIND, flash_subject
from hotline.services.line_checks import LINE_CHECK_KIND, line_check_subject, send_line_check
from hotline.services.receipts import acknowledge_message
from tests.hotline.conftest import send

pytestmark = pytest.mark.django_db


def fire_now(kind: str, subject_key: str) -> bool:
    """Make the pending deadline due and fire it as the engine's task would."""
    deadline = Deadline.objects.get(kind=kind, subject_key=subject_key, state="pending")
    Deadline.objects.filter(pk=deadline.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    return fire_deadline(deadline.pk)


def flash(region, channel, body="FLASH: border incident"):
    return send(region.operator_a, channel, body, priority="flash")[0]


def test_unacknowledged_flash_escalates_desk_then_supervisors_then_coordinator(region, room):
    message = flash(region, room)
    deadline = Deadline.objects.get(kind=FLASH_KIND, subject_key=flash_subject(message.pk))
    expected_due = message.created_at + timedelta(seconds=room.ack_deadline_seconds)
    assert abs((deadline.due_at - expected_due).total_seconds()) < 2
    acknowledge_message(by=region.operator_b, message_id=message.pk)  # one of three desks
    for _ in range(3):
        assert fire_now(FLASH_KIND, flash_subject(message.pk))
    steps = list(
        ChannelEvent.objects.filter(channel=room, kind="escalated").values_list("data", flat=True)
    )
    missing = sorted([region.desk_c.pk, region.centre.pk])
    assert [(s["step"], s["level"], s["desks"]) for s in steps] == [
        (1, "desk", missing),
        (2, "supervisors", missing),
        (3, "coordinator", missing),
    ]
    assert not Deadline.objects.filter(subject_key=flash_subject(message.pk), state="pending")


def test_the_last_acknowledgement_stops_the_escalation(region, line_ab):
    message = flash(region, line_ab)
    assert fire_now(FLASH_KIND, flash_subject(message.pk))  # step 1: desk re-notified
    acknowledge_message(by=region.operator_b, message_id=message.pk)
    states = set(
        Deadline.objects.filter(subject_key=flash_subject(message.pk)).values_list(
            "state", flat=True
        )
    )
    assert states == {DeadlineState.FIRED, DeadlineState.CANCELLED}
    assert ChannelEvent.objects.filter(channel=line_ab, kind="escalated").count() == 1


def test_routine_messages_have_no_deadline(region, line_ab):
    send(region.operator_a, line_ab, "fyi")
    assert not Deadline.objects.filter(kind=FLASH_KIND).exists()


def test_line_check_answered_by_every_desk_passes(region, line_ab):
    check = send_line_check(channel_id=line_ab.pk, timeout_seconds=60)
    assert check.message.kind == "line_check" and check.message.sender_desk_id is None
    assert send_line_check(channel_id=line_ab.pk) is None  # one pending check at a time
    acknowledge_message(by=region.operator_a, message_id=check.message_id)
    assert LineCheck.objects.get(pk=check.pk).status == "pending"
    acknowledge_message(by=region.operator_b, message_id=check.message_id)
    check.refresh_from_db()
    channel = HotlineChannel.objects.get(pk=line_ab.pk)
    assert check.status == "passed" and channel.line_status == "ok"
    assert channel.last_check_ok_at is not None
    assert not Deadline.objects.filter(subject_key=line_check_subject(check.pk), state="pending")


def test_unanswered_line_check_degrades_the_line(region, line_ab):
    check = send_line_check(channel_id=line_ab.pk, timeout_seconds=60)
    acknowledge_message(by=region.operator_a, message_id=check.message_id)
    assert fire_now(LINE_CHECK_KIND, line_check_subject(check.pk))
    check.refresh_from_db()
    assert check.status == "failed" and check.missing_desk_ids == [region.desk_b.pk]
    assert HotlineChannel.objects.get(pk=line_ab.pk).line_status == "degraded"
    assert ChannelEvent.objects.filter(channel=line_ab, kind="line_check_failed").exists()
