"""A desk's actions on a crisis page, as a panel: post a situation update, change the
severity, report progress on an acknowledged level, stop the escalation (supervisors and
coordinators, with a reason), add and remove the desks taking part; and the checklist's
assign form. Each form is shown only to who may use it now (the same predicates the
services check); otherwise the panel says what the step waits for.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.console.shell import console_view, run_action
from core.errors import InvalidInput
from crisis import lifecycle
from crisis.console import selectors
from crisis.console.desks import acting_desk
from crisis.models import EscalationAck, EscalationState, ParticipantRole
from crisis.services.crises import (
    change_severity,
    post_situation_update,
    remove_participant,
    set_participant,
)
from crisis.services.escalation import STOPPING_ROLES, report_progress, stop_escalation
from crisis.services.tasks import assign_task
from directory.access import access_for
from directory.models import WRITING_ROLES
from directory.selectors import desks_visible_to
from rosters.times import instant

LIVE = (EscalationState.ESCALATING, EscalationState.ACKNOWLEDGED, EscalationState.UNANSWERED)


def actions_panel(request, access, desk, *, crisis):
    if desk is None or not access.can_act_for(desk, roles=WRITING_ROLES):
        return None
    open_ = lifecycle.is_open(crisis)
    parties = lifecycle.parties_of(desk, crisis)
    acked = EscalationAck.objects.filter(
        crisis=crisis, level=crisis.current_level or 0, round=crisis.level_repeats, desk=desk
    ).exists()
    waits = []
    may_progress = crisis.escalation_state == EscalationState.ACKNOWLEDGED and acked
    may_stop = (
        bool(parties) and crisis.escalation_state in LIVE and access.role_on(desk) in STOPPING_ROLES
    )
    if crisis.escalation_state in LIVE and not may_stop and parties:
        waits.append(_("Only a supervisor or a coordinator can stop the escalation."))
    may_manage = lifecycle.may(access, desk, parties, lifecycle.MANAGERS)
    if open_ and parties and not may_manage:
        waits.append(
            _(
                "The severity and the desks taking part are changed by the lead desk's "
                "operators and supervisors or a regional coordinator."
            )
        )
    may_participants = may_manage and crisis.status != "closed"
    participants = list(crisis.participants.all()) if may_participants else []
    return (
        "crisis/console/panel_actions.html",
        {
            "crisis": crisis,
            "may_update": bool(parties) and crisis.status != "closed",
            "may_severity": open_ and lifecycle.may(access, desk, parties, lifecycle.MANAGERS),
            "may_progress": may_progress,
            "may_stop": may_stop,
            "waits": waits,
            "severities": range(1, 6),
            "may_participants": may_participants,
            "participants": participants,
            "addable_desks": (
                desks_visible_to(access)
                .exclude(pk__in=[p.desk_id for p in participants])
                .order_by("state__name", "code")
                if may_participants
                else []
            ),
            "participant_roles": [
                (value, label)
                for value, label in ParticipantRole.choices
                if value != ParticipantRole.LEAD
            ],
        },
    )


def _back(crisis_id: int) -> str:
    return reverse("console:crisis", kwargs={"pk": crisis_id})


def crisis_action(request, pk: int, act, *, success):
    """The shape of every POST on a crisis page: the crisis the caller may see (404
    otherwise), ``act(crisis, desk, post)`` for the session's desk (a person on no desk
    is refused with a reason), its refusal or ``success`` as the message, back to the
    crisis page (post/redirect/get)."""
    access = access_for(request.user)
    crisis = selectors.crisis_for(access, pk)
    return run_action(
        request,
        lambda: act(crisis, acting_desk(request), request.POST),
        success=success,
        redirect_to=_back(crisis.pk),
    )


@require_POST
@console_view
def post_update(request, pk: int):
    return crisis_action(
        request,
        pk,
        lambda crisis, desk, post: post_situation_update(
            by=request.user,
            desk=desk,
            crisis=crisis,
            conditions=post.get("conditions", ""),
            actions=post.get("actions", ""),
            needs=post.get("needs", ""),
        ),
        success=_("Situation update posted."),
    )


@require_POST
@console_view
def set_severity(request, pk: int):
    return crisis_action(
        request,
        pk,
        lambda crisis, desk, post: change_severity(
            by=request.user,
            desk=desk,
            crisis=crisis,
            severity=post.get("severity", ""),
            reason=post.get("reason", ""),
        ),
        success=lambda c: _("Severity is now %(n)s.") % {"n": c.severity},
    )


@require_POST
@console_view
def progress(request, pk: int):
    return crisis_action(
        request,
        pk,
        lambda crisis, desk, post: report_progress(
            by=request.user, crisis=crisis, desk=desk, note=post.get("note", "")
        ),
        success=_("Progress reported."),
    )


@require_POST
@console_view
def stop(request, pk: int):
    return crisis_action(
        request,
        pk,
        lambda crisis, desk, post: stop_escalation(
            by=request.user, crisis=crisis, desk=desk, reason=post.get("reason", "")
        ),
        success=_("Escalation stopped: nobody is notified any more."),
    )


def _desk_named(request, code: str):
    """An active desk of the directory by its code; a refusal with a reason otherwise."""
    desk = desks_visible_to(access_for(request.user)).filter(code=(code or "").strip()).first()
    if desk is None:
        raise InvalidInput(_("Choose a desk."), code="unknown_desk")
    return desk


@require_POST
@console_view
def add_participant(request, pk: int):
    return crisis_action(
        request,
        pk,
        lambda crisis, desk, post: set_participant(
            by=request.user,
            crisis=crisis,
            desk=_desk_named(request, post.get("desk", "")),
            role=post.get("role", ""),
            acting_desk=desk,
        ),
        success=lambda p: (
            _("%(desk)s takes part as %(role)s.")
            % {"desk": p.desk.code, "role": p.get_role_display().lower()}
        ),
    )


@require_POST
@console_view
def drop_participant(request, pk: int):
    code = request.POST.get("desk", "")
    return crisis_action(
        request,
        pk,
        lambda crisis, desk, post: remove_participant(
            by=request.user, crisis=crisis, desk=_desk_named(request, code), acting_desk=desk
        ),
        success=_("%(desk)s no longer takes part.") % {"desk": code},
    )


@require_POST
@console_view
def assign(request, pk: int):
    """Give a checklist task to a person of its desk, due at a time typed on the desk's
    clock (``rosters.times.instant`` reads it in the task desk's zone)."""
    task = selectors.task_for(access_for(request.user), pk)
    post = request.POST

    def act():
        assignee = (post.get("assignee") or "").strip()
        if assignee and not assignee.isdigit():
            raise InvalidInput(_("Choose a person of the desk."), code="not_on_desk")
        due = post.get("due_at", "").strip()
        return assign_task(
            by=request.user,
            task=task,
            assignee_id=int(assignee) if assignee else None,
            due_at=instant(due, task.desk.zone, field="due_at") if due else None,
        )

    return run_action(
        request,
        act,
        success=lambda t: (
            _("Task given to %(who)s.") % {"who": t.assignee.get_username()}
            if t.assignee_id
            else _("Task given to nobody.")
        ),
        redirect_to=_back(task.crisis_id),
    )
