"""A desk's actions on a crisis page, as a panel: post a situation update, change the
severity, report progress on an acknowledged level, stop the escalation (supervisors and
coordinators, with a reason). Each form is shown only to who may use it now (the same
predicates the services check); otherwise the panel says what the step waits for.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.console.shell import console_view, run_action
from crisis import lifecycle
from crisis.console import selectors
from crisis.console.desks import acting_desk
from crisis.models import EscalationAck, EscalationState
from crisis.services.crises import change_severity, post_situation_update
from crisis.services.escalation import STOPPING_ROLES, report_progress, stop_escalation
from directory.access import access_for
from directory.models import WRITING_ROLES

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
        },
    )


def _back(crisis_id: int) -> str:
    return reverse("console:crisis", kwargs={"pk": crisis_id})


@require_POST
@console_view
def post_update(request, pk: int):
    crisis = selectors.crisis_for(access_for(request.user), pk)
    post = request.POST
    return run_action(
        request,
        lambda: post_situation_update(
            by=request.user,
            desk=acting_desk(request),
            crisis=crisis,
            conditions=post.get("conditions", ""),
            actions=post.get("actions", ""),
            needs=post.get("needs", ""),
        ),
        success=_("Situation update posted."),
        redirect_to=_back(crisis.pk),
    )


@require_POST
@console_view
def set_severity(request, pk: int):
    crisis = selectors.crisis_for(access_for(request.user), pk)
    return run_action(
        request,
        lambda: change_severity(
            by=request.user,
            desk=acting_desk(request),
            crisis=crisis,
            severity=request.POST.get("severity", ""),
            reason=request.POST.get("reason", ""),
        ),
        success=lambda c: _("Severity is now %(n)s.") % {"n": c.severity},
        redirect_to=_back(crisis.pk),
    )


@require_POST
@console_view
def progress(request, pk: int):
    crisis = selectors.crisis_for(access_for(request.user), pk)
    return run_action(
        request,
        lambda: report_progress(
            by=request.user,
            crisis=crisis,
            desk=acting_desk(request),
            note=request.POST.get("note", ""),
        ),
        success=_("Progress reported."),
        redirect_to=_back(crisis.pk),
    )


@require_POST
@console_view
def stop(request, pk: int):
    crisis = selectors.crisis_for(access_for(request.user), pk)
    return run_action(
        request,
        lambda: stop_escalation(
            by=request.user,
            crisis=crisis,
            desk=acting_desk(request),
            reason=request.POST.get("reason", ""),
        ),
        success=_("Escalation stopped: nobody is notified any more."),
        redirect_to=_back(crisis.pk),
    )
