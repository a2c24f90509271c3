import itertools

import pytest
from django.db import DatabaseError, connection, transaction

from crisis.models import TimelineEntry, TimelineStream
from crisis.models.timeline import AppendOnlyError
from crisis.services import timeline

pytestmark = pytest.mark.django_db


def append(n: int, stream: str = "test:1"):
    with transaction.atomic():
        for i in range(n):
            timeline.record(stream=stream, kind="note", payload={"i": i, "text": f"entry {i}"})


def test_entries_chain_and_verify():
    append(5)
    head = TimelineStream.objects.get(key="test:1")
    entries = list(head.entries.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert head.last_hash == entries[-1].hash
    assert timeline.verify_stream(head) is None


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        timeline.record(stream="test:1", kind="note")


def test_entries_cannot_be_edited_or_deleted_through_the_orm():
    append(1)
    entry = TimelineEntry.objects.get()
    entry.kind = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_database_refuses_update_and_delete():
    append(2)
    with pytest.raises(DatabaseError), transaction.atomic():
        TimelineEntry.objects.filter(seq=1).update(kind="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        TimelineEntry.objects.filter(seq=2).delete()
    assert TimelineEntry.objects.count() == 2


def tamper(sql: str, params):
    with connection.cursor() as cursor:
        # What someone with database superuser rights could do: bypass triggers.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = DEFAULT")


def test_tampered_payload_is_found_at_that_entry():
    append(4)
    target = TimelineEntry.objects.get(seq=3)
    tamper("UPDATE crisis_timelineentry SET payload = %s WHERE id = %s", ['{"i": 99}', target.pk])
    found = timeline.verify_stream(TimelineStream.objects.get(key="test:1"))
    assert found is not None and found.seq == 3 and "hash" in found.reason


def test_deleted_entry_is_found():
    append(4)
    target = TimelineEntry.objects.get(seq=2)
    tamper("DELETE FROM crisis_timelineentry WHERE id = %s", [target.pk])
    found = timeline.verify_stream(TimelineStream.objects.get(key="test:1"))
    assert found is not None and found.seq == 2


def test_streams_are_independent():
    append(2, "test:a")
    append(3, "test:b")
    assert timeline.verify_all() == []
    assert TimelineStream.objects.get(key="test:b").last_seq == 3
