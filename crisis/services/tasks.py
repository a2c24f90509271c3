"""Checklist tasks: who sees to one (its assignee), by when, and a reminder when it is due.

- :func:`assign_task` — a writing member of the task's desk gives the task to a person of
  that desk (or to nobody) and sets its due time. One transaction: the crisis row is
  locked first (as every crisis action does), the task written, the timeline appended.
- **The due reminder** is a deadline (kind ``crisis.task.due``, subject
  ``crisis-task:<id>:due``) armed at the task's due time while the task has an assignee
  and is not done. It is re-armed in place when the assignee or the due time changes and
  cancelled when the task is done, loses its assignee or its desk leaves the crisis
  (:func:`cancel_task_reminders`). The engine fires it once (``deadlines.services``).
- Its handler runs in the firing transaction. It takes the crisis row without waiting
  (the deadline row is held; an action holding the crisis row makes it back off and try
  again, as the escalation does), checks again that the task is open, assigned, of an
  active crisis and due, and then tells the task's desk (a :class:`Notification`) and
  pages the assignee through their contact methods (``paging``). The notification's page
  subject names the deadline, so a second run of the handler tells nobody twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from crisis.lifecycle import ACTIVE_STATUSES
from crisis.models import CrisisTask
from crisis.selectors import crises_visible_to
from crisis.services import timeline
from crisis.services.escalation import lock_crisis_nowait
from crisis.services.notifications import PageSpec, notify_desks
from crisis.services.steps import announce, begin_crisis_action
from deadlines.models import Deadline
from deadlines.services import cancel_deadlines, register_handler, schedule_deadline
from directory.access import access_for
from directory.models import WRITING_ROLES, DeskMembership
from paging.models import Urgency

REMINDER_KIND = "crisis.task.due"
#: Pages of a due reminder (nothing to do on acknowledgement but stop paging).
PAGE_KIND = "crisis.task"


def reminder_subject(task: CrisisTask | int) -> str:
    task_id = task if isinstance(task, int) else task.pk
    return f"crisis-task:{task_id}:due"


def assignable_people(task: CrisisTask):
    """The people a task can be given to: writing members of the task's desk."""
    return (
        get_user_model()
        .objects.filter(
            desk_memberships__desk_id=task.desk_id,
            desk_memberships__role__in=WRITING_ROLES,
            is_active=True,
        )
        .distinct()
        .order_by("username")
    )


def may_assign(access, *, desk_id: int, crisis) -> bool:
    """Whether the caller may (re)assign the tasks of desk ``desk_id`` on ``crisis`` now
    (what :func:`assign_task` checks, the desk being party to the crisis)."""
    return access.can_act_for(desk_id) and crisis.status in ACTIVE_STATUSES


def _arm_reminder(task: CrisisTask) -> None:
    """Arm (or re-arm, or cancel) the task's due reminder to match the task."""
    if task.assignee_id is None or task.done_at is not None:
        cancel_deadlines(kind=REMINDER_KIND, subject_key=reminder_subject(task))
        return
    schedule_deadline(
        kind=REMINDER_KIND,
        subject_key=reminder_subject(task),
        due_at=task.due_at,
        payload={
            "task_id": task.pk,
            "crisis_id": task.crisis_id,
            "assignee_id": task.assignee_id,
            "due_at": task.due_at.isoformat(),
        },
    )


def cancel_task_reminders(tasks) -> None:
    """The tasks are done or gone: their reminders go. In the caller's transaction."""
    for task in tasks:
        cancel_deadlines(kind=REMINDER_KIND, subject_key=reminder_subject(task))


def sync_reminder(task: CrisisTask) -> None:
    """Re-arm or cancel ``task``'s reminder after it was marked done or undone (called by
    ``set_task_done`` holding the crisis row lock). An undone task due in the past is not
    reminded again: its reminder was the one chance (or it was done in time)."""
    if task.done_at is not None or task.due_at <= timezone.now():
        cancel_deadlines(kind=REMINDER_KIND, subject_key=reminder_subject(task))
    else:
        _arm_reminder(task)


def assign_task(
    *, by, task: CrisisTask, assignee_id: int | None, due_at: datetime | None = None
) -> CrisisTask:
    """Give ``task`` to a person of its desk (``assignee_id``; None: to nobody) and, if
    ``due_at`` is given, move its due time. Who: writing members of the task's desk,
    while the crisis is active.

    Transactional; idempotent (the same assignee and due time change nothing). The due
    reminder follows the task (see the module docstring). Refused: 403 for a person not
    on the task's desk, 400 for an assignee who is not a writing member of it or a naive
    due time, 409 once the crisis is no longer active or the task is done.
    """
    access = access_for(by)
    if not access.is_member_of(task.desk):
        if not crises_visible_to(access).filter(pk=task.crisis_id).exists():
            raise NotFound(_("No such crisis."))
        raise PermissionDenied(
            _("Only the people of desk %(desk)s assign its tasks.") % {"desk": task.desk.code},
            code="not_your_task",
        )
    if due_at is not None and timezone.is_naive(due_at):
        raise InvalidInput(_("A due time must say its time zone."), code="naive_time")
    with transaction.atomic():
        _access, crisis, _parties = begin_crisis_action(by=by, desk=task.desk, crisis=task.crisis)
        task = CrisisTask.objects.select_for_update().select_related("desk").get(pk=task.pk)
        if crisis.status not in ACTIVE_STATUSES:
            raise TransitionNotAllowed(
                _("The tasks of a %(status)s crisis are final.")
                % {"status": crisis.get_status_display().lower()},
                code="crisis_not_open",
            )
        if task.is_done:
            raise TransitionNotAllowed(
                _("The task is done; mark it not done to give it to someone."), code="task_done"
            )
        assignee = None
        if assignee_id is not None:
            assignee = assignable_people(task).filter(pk=assignee_id).first()
            if assignee is None:
                raise InvalidInput(
                    _("Give the task to a person of desk %(desk)s.") % {"desk": task.desk.code},
                    code="not_on_desk",
                    details={"fields": {"assignee": [_("Not a person of this desk.")]}},
                )
        new_due = due_at.astimezone(UTC) if due_at is not None else task.due_at
        if task.assignee_id == assignee_id and task.due_at == new_due:
            return task
        change = {
            "task_id": task.pk,
            "title": task.title,
            "assignee": assignee.get_username() if assignee else None,
            "previous_assignee": _username(task.assignee_id),
            "due_at": new_due.isoformat(),
        }
        task.assignee = assignee
        task.due_at = new_due
        task.save(update_fields=["assignee", "due_at"])
        _arm_reminder(task)
        timeline.record(
            kind="task_assigned", crisis=crisis, actor=by, desk=task.desk, payload=change
        )
        announce(crisis, "task_assigned", task_id=task.pk)
    return task


def _username(user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return get_user_model().objects.filter(pk=user_id).values_list("username", flat=True).first()


@register_handler(REMINDER_KIND)
def on_task_due(deadline: Deadline) -> None:
    """A task's due time came: if it is still open and assigned, tell its desk and page its
    assignee. Runs in the firing transaction (see the module docstring)."""
    data = deadline.payload
    crisis = lock_crisis_nowait(data["crisis_id"])
    if crisis is None or crisis.status not in ACTIVE_STATUSES:
        return
    task = (
        CrisisTask.objects.select_related("desk", "assignee")
        .filter(pk=data["task_id"], crisis=crisis)
        .first()
    )
    if task is None or task.is_done or task.assignee_id is None:
        return
    if task.assignee_id != data.get("assignee_id"):
        return  # given to someone else since (defensive: re-arming normally prevents this)
    if not DeskMembership.objects.filter(
        desk=task.desk, user=task.assignee, role__in=WRITING_ROLES
    ).exists():
        return  # the person left the desk
    who = task.assignee.get_username()
    title = f"{crisis.reference}: task due — {task.title} ({who})"
    payload = {"task_id": task.pk, "assignee": who, "due_at": task.due_at.isoformat()}
    link = f"/crises/{crisis.pk}/"
    notify_desks(
        desks=[task.desk],
        kind="task.due",
        title=title,
        crisis=crisis,
        payload=payload,
        link_path=link,
        page=PageSpec(
            urgency=Urgency.URGENT,
            kind=PAGE_KIND,
            subject_key=f"{reminder_subject(task)}:{deadline.pk}",
            body=lambda desk: _page_body(crisis, task, desk),
            payload={"crisis_id": crisis.pk, "task_id": task.pk},
            people=(task.assignee,),
        ),
    )
    timeline.record(crisis=crisis, kind="task_reminder_sent", desk=task.desk, payload=payload)


def _page_body(crisis, task: CrisisTask, desk) -> str:
    local = task.due_at.astimezone(desk.zone)
    return (
        f"Crisis {crisis.reference}: {crisis.title}\n"
        f"Checklist task of {desk.name} ({desk.code}): {task.title}\n"
        f"It was due {local:%Y-%m-%d %H:%M} {desk.time_zone} "
        f"({task.due_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC) and is not done yet."
    )
