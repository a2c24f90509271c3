"""Sequence numbers under concurrency: strictly increasing, no gaps, no duplicates."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from hotline.models import HotlineChannel, Message
from hotline.services.sequence import append_message
from tests.hotline.conftest import send

pytestmark = pytest.mark.django_db(transaction=True)


def _send(user, channel_id, client_msg_id=None):
    try:
        return send(user, channel_id, "x", client_msg_id=client_msg_id)
    finally:
        connection.close()


def test_concurrent_senders_get_gapless_seqs(region, line_ab):
    users = [region.operator_a, region.supervisor_a, region.operator_b, region.supervisor_b]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: _send(users[n % 4], line_ab.pk), range(80)))
    assert sorted(m.seq for m, _ in results) == list(range(1, 81))
    assert list(Message.objects.filter(channel=line_ab).values_list("seq", flat=True)) == list(
        range(1, 81)
    )
    assert HotlineChannel.objects.get(pk=line_ab.pk).last_seq == 80


def test_the_same_client_msg_id_sent_concurrently_is_stored_once(region, line_ab):
    client_msg_id = uuid.uuid4()
    with ThreadPoolExecutor(6) as pool:
        results = list(
            pool.map(lambda _: _send(region.operator_a, line_ab.pk, client_msg_id), range(6))
        )
    assert len({m.pk for m, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert Message.objects.filter(channel=line_ab).count() == 1
    assert HotlineChannel.objects.get(pk=line_ab.pk).last_seq == 1  # no number lost


def test_the_claim_takes_nothing_when_it_must_refuse(region, line_ab):
    """append_message (hotline.services.sequence) writes nothing and keeps the counter
    when no desk given is a member or the line is not active; system messages need no
    desk."""
    with transaction.atomic():
        refused = append_message(
            channel_id=line_ab.pk, client_msg_id=uuid.uuid4(), body="x",
            desk_ids=[region.desk_c.pk],
        )  # fmt: skip
        system = append_message(channel_id=line_ab.pk, client_msg_id=uuid.uuid4(), body="check")
    assert refused is None
    assert (system.seq, system.sender_desk_id) == (1, None)
    HotlineChannel.objects.filter(pk=line_ab.pk).update(status="proposed")
    with transaction.atomic():
        assert append_message(channel_id=line_ab.pk, client_msg_id=uuid.uuid4(), body="x") is None
    assert HotlineChannel.objects.get(pk=line_ab.pk).last_seq == 1
    assert Message.objects.filter(channel=line_ab).count() == 1
