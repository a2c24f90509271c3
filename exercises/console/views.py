"""The exercise controller's console pages: pick a scenario and start it; a run's injects
and their state (lead desk's time with UTC); pause, resume, add an inject, end. Thin:
the services decide; the pages only read through the selectors."""

from __future__ import annotations

import yaml
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.console.shell import console_view, render_console, run_action
from core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from directory.access import access_for
from exercises import scenario as files
from exercises import selectors, services
from exercises.api import visible_scenarios
from exercises.models import RunStatus

ADD_EXAMPLE = """at: now
type: message
desk: PHL-NDRRMC
body: Fishing vessel reports a second casualty."""


@console_view
def index(request):
    """Scenarios the person may run, and the runs they may read."""
    access = access_for(request.user)
    runs = list(selectors.runs_visible_to(access)[:50])
    return render_console(
        request,
        "exercises/console/index.html",
        {
            "scenarios": visible_scenarios(access),
            "runs": runs,
            "may_control": selectors.may_list_scenarios(access) and access.can_write,
        },
    )


@console_view
@require_POST
def start(request):
    try:
        speed = int(request.POST.get("speed") or 1)
    except ValueError:
        speed = 0  # refused by the service, with its reason

    def action():
        return services.start_run(
            by=request.user, scenario_key=request.POST.get("scenario", ""), speed=speed
        )

    try:
        run = action()
    except DomainError as exc:  # the scenario page again, with the reason
        messages.error(request, exc.message)
        return redirect("console:exercises")
    messages.success(
        request,
        _("Exercise %(reference)s started: the crisis is open and the injects are armed.")
        % {"reference": run.crisis.reference},
    )
    return redirect("console:exercise-run", run_id=run.pk)


@console_view
def run(request, run_id: int):
    access = access_for(request.user)
    the_run = selectors.run_for(access, run_id)
    injects = list(selectors.injects_of(the_run))
    try:
        selectors.controller_desk(access, the_run.lead_desk)
        controls = access.can_write
    except PermissionDenied:  # an auditor reads, does not control
        controls = False
    return render_console(
        request,
        "exercises/console/run.html",
        {
            "run": the_run,
            "injects": injects,
            "clock": files.format_offset(services.scenario_seconds(the_run)),
            "controls": controls,
            "is_running": the_run.status == RunStatus.RUNNING,
            "is_paused": the_run.status == RunStatus.PAUSED,
            "is_ended": the_run.status == RunStatus.ENDED,
            "add_example": ADD_EXAMPLE,
            "parts": ("injects",),
            "lead": the_run.lead_desk,
        },
    )


def _inject_from_text(text: str) -> dict:
    try:
        data = yaml.safe_load(text or "")
    except yaml.YAMLError:
        raise InvalidInput(
            _("The inject is not valid YAML (see the example)."), code="invalid_scenario"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(
            _("Write the inject as fields, one per line (see the example)."),
            code="invalid_scenario",
        )
    return {str(k): v for k, v in data.items()}


@console_view
@require_POST
def run_action_view(request, run_id: int, action: str):
    by = request.user
    target = reverse("console:exercise-run", args=[run_id])
    actions = {
        "pause": (
            lambda: services.pause_run(by=by, run_id=run_id),
            _("Paused: the pending injects are held."),
        ),
        "resume": (
            lambda: services.resume_run(by=by, run_id=run_id),
            _("Resumed: the held injects come later by the length of the pause."),
        ),
        "end": (
            lambda: services.end_run(by=by, run_id=run_id),
            _("Ended: the injects not played yet are withdrawn."),
        ),
        "add": (
            lambda: services.add_inject(
                by=by, run_id=run_id, inject=_inject_from_text(request.POST.get("inject", ""))
            ),
            _("Inject added."),
        ),
    }
    if action not in actions:
        raise NotFound(_("No such action."))
    call, success = actions[action]
    return run_action(request, call, success=success, redirect_to=target)
