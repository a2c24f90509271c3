"""The overdue line check and a desk answering it at the same moment: the firing holds
the deadline row and takes the check row without waiting, so it never waits on an answer
that waits on it (a deadlock); it is tried again and acts once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from deadlines.models import Deadline, DeadlineState
from deadlines.services import fire_deadline
from hotline.models import LineCheck
from hotline.services.line_checks import LINE_CHECK_KIND, line_check_subject, send_line_check

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_answer_holding_the_check_makes_the_firing_wait_its_turn(region, line_ab):
    check = send_line_check(channel_id=line_ab.pk, timeout_seconds=60)
    deadline = Deadline.objects.get(kind=LINE_CHECK_KIND, subject_key=line_check_subject(check.pk))
    Deadline.objects.filter(pk=deadline.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    holding, release = threading.Event(), threading.Event()

    def answer_in_progress():  # what an answer holds while it works
        try:
            with transaction.atomic():
                LineCheck.objects.select_for_update().get(pk=check.pk)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    answering = threading.Thread(target=answer_in_progress)
    answering.start()
    try:
        assert holding.wait(10)
        assert fire_deadline(deadline.pk) is False  # busy: not waited on, not fired
        deadline.refresh_from_db()
        assert deadline.state == DeadlineState.PENDING
        assert LineCheck.objects.get(pk=check.pk).status == "pending"
    finally:
        release.set()
        answering.join(10)
    assert fire_deadline(deadline.pk) is True  # its turn: fired once
    assert LineCheck.objects.get(pk=check.pk).status == "failed"
    assert fire_deadline(deadline.pk) is False
