"""Checklist tasks get an assignee and a due time; when a task is due and not done, its
assignee is paged (a deadline, fired once by the real engine); participants leave."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from core.errors import InvalidInput, PermissionDenied, TransitionNotAllowed
from crisis.models import CrisisParticipant, CrisisTask, Notification, ParticipantRole
from crisis.services.crises import remove_participant, set_participant, set_task_done
from crisis.services.tasks import REMINDER_KIND, assign_task, reminder_subject
from deadlines.models import Deadline
from deadlines.services import fire_deadline, fire_due_deadlines, sweep
from paging.models import ContactMethod, DeliveryAttempt, Page, PageRecipient
from tests.crisis.factories import activate, kinds, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def active(region, protocol):
    crisis = report(region)
    return activate(region, crisis)


def _task(crisis, desk, title="Confirm focal point") -> CrisisTask:
    return CrisisTask.objects.get(crisis=crisis, desk=desk, title=title)


def _reminder(task):
    return Deadline.objects.filter(kind=REMINDER_KIND, subject_key=reminder_subject(task))


def _make_due(task):
    _reminder(task).filter(state="pending").update(due_at=timezone.now() - timedelta(seconds=1))


def test_assign_sets_assignee_due_time_and_arms_one_reminder(region, active):
    task = _task(active, region.desk_a)
    due = datetime(2030, 1, 6, 2, 0, tzinfo=UTC)
    task = assign_task(
        by=region.supervisor_a, task=task, assignee_id=region.operator_a.pk, due_at=due
    )
    task.refresh_from_db()
    assert (task.assignee, task.due_at) == (region.operator_a, due)
    pending = _reminder(task).get(state="pending")
    assert pending.due_at == due and pending.payload["assignee_id"] == region.operator_a.pk
    assert "task_assigned" in kinds(active)

    # Reassigning re-arms the same reminder in place; the same again changes nothing.
    assign_task(by=region.operator_a, task=task, assignee_id=region.supervisor_a.pk)
    assign_task(by=region.operator_a, task=task, assignee_id=region.supervisor_a.pk)
    assert _reminder(task).filter(state="pending").count() == 1
    assert _reminder(task).get(state="pending").payload["assignee_id"] == region.supervisor_a.pk
    assert kinds(active).count("task_assigned") == 2

    # To nobody: no reminder.
    assign_task(by=region.operator_a, task=task, assignee_id=None)
    assert not _reminder(task).filter(state="pending").exists()


def test_who_may_assign_and_to_whom(region, active):
    task = _task(active, region.desk_a)
    with pytest.raises(PermissionDenied):  # another state's desk
        assign_task(by=region.operator_b, task=task, assignee_id=region.operator_b.pk)
    with pytest.raises(InvalidInput):  # a person of another desk
        assign_task(by=region.operator_a, task=task, assignee_id=region.operator_b.pk)
    with pytest.raises(PermissionDenied):  # an auditor (reads every crisis, on no desk of it)
        assign_task(by=region.auditor, task=task, assignee_id=None)
    assert CrisisTask.objects.get(pk=task.pk).assignee is None


def test_a_due_task_pages_its_assignee_once(region, active):
    ContactMethod.objects.create(
        user=region.operator_a,
        kind="email",
        address="op-a@example.org",
        verified_at=timezone.now(),
    )
    task = _task(active, region.desk_a)
    assign_task(
        by=region.supervisor_a,
        task=task,
        assignee_id=region.operator_a.pk,
        due_at=timezone.now() + timedelta(hours=1),
    )
    deadline = _reminder(task).get()
    _make_due(task)
    fire_due_deadlines()
    deadline.refresh_from_db()
    assert deadline.state == "fired"

    told = Notification.objects.get(kind="task.due")
    assert told.desk == region.desk_a and "Confirm focal point (op-a)" in told.title
    page = Page.objects.get(kind="crisis.task")
    # The assignee, not whoever else is on duty at the desk.
    assert list(
        PageRecipient.objects.filter(page=page).values_list("user__username", flat=True)
    ) == ["op-a"]
    assert DeliveryAttempt.objects.filter(recipient__page=page).exists()
    assert "not done yet" in page.body and "UTC" in page.body
    assert kinds(active).count("task_reminder_sent") == 1

    # Exactly once: a late task, the sweep, another round of firing do nothing more.
    assert fire_deadline(deadline.pk, deadline.token) is False
    sweep()
    fire_due_deadlines()
    assert Notification.objects.filter(kind="task.due").count() == 1
    assert Page.objects.filter(kind="crisis.task").count() == 1


def test_done_task_is_not_reminded(region, active):
    task = _task(active, region.desk_a)
    assign_task(
        by=region.operator_a,
        task=task,
        assignee_id=region.operator_a.pk,
        due_at=timezone.now() + timedelta(hours=1),
    )
    set_task_done(by=region.operator_a, task=task, done=True)
    assert _reminder(task).get().state == "cancelled"
    # Undone before its due time: reminded again when due; done again: not.
    set_task_done(by=region.operator_a, task=task, done=False)
    assert _reminder(task).filter(state="pending").count() == 1
    set_task_done(by=region.operator_a, task=task, done=True)
    assert not _reminder(task).filter(state="pending").exists()
    fire_due_deadlines()
    assert not Notification.objects.filter(kind="task.due").exists()
    with pytest.raises(TransitionNotAllowed):
        assign_task(by=region.operator_a, task=task, assignee_id=region.supervisor_a.pk)


def test_remove_participant_takes_its_open_tasks_and_reminders(region, active):
    set_participant(
        by=region.operator_a,
        crisis=active,
        desk=region.desk_c,
        role=ParticipantRole.SUPPORTING,
        acting_desk=region.desk_a,
    )
    task = _task(active, region.desk_c)
    assign_task(
        by=region.operator_c,
        task=task,
        assignee_id=region.operator_c.pk,
        due_at=timezone.now() + timedelta(hours=1),
    )
    with pytest.raises(PermissionDenied):  # not the lead desk
        remove_participant(
            by=region.operator_b, crisis=active, desk=region.desk_c, acting_desk=region.desk_b
        )
    with pytest.raises(TransitionNotAllowed):  # the lead stays
        remove_participant(
            by=region.operator_a, crisis=active, desk=region.desk_a, acting_desk=region.desk_a
        )
    remove_participant(
        by=region.operator_a, crisis=active, desk=region.desk_c, acting_desk=region.desk_a
    )
    assert not CrisisParticipant.objects.filter(crisis=active, desk=region.desk_c).exists()
    assert not CrisisTask.objects.filter(crisis=active, desk=region.desk_c).exists()
    assert _reminder(task).get().state == "cancelled"
    assert "participant_removed" in kinds(active)
    # Added again, it gets its checklist back.
    set_participant(
        by=region.coordinator,
        crisis=active,
        desk=region.desk_c,
        role=ParticipantRole.OBSERVER,
        acting_desk=region.centre,
    )
    assert CrisisTask.objects.filter(crisis=active, desk=region.desk_c).exists()
