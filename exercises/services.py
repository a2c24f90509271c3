"""Exercise control: upload a scenario, start a run, pause, resume, add an inject, end.

Each action is one transaction and is checked against :func:`selectors.controller_desk`
(a coordinator, or a supervisor of the scenario's lead desk). A run's injects are
deadlines of the engine (``exercises.injects``):

- **start** opens the exercise crisis (``report_crisis(exercise=True)``, in the lead
  desk's name) and arms one deadline per inject, due at ``start + at / speed``;
- **pause** withdraws the pending injects' deadlines (they become ``held``); an inject
  whose deadline is firing at that moment finishes first (the same row lock) and stays
  played;
- **resume** shifts every held inject by the length of the pause and arms it again;
- **add** validates an inject like a file's and arms it (held if the run is paused);
- **end** withdraws what has not been played. The crisis stays: it is closed through
  its lifecycle, by a transition inject or by its people.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.errors import Conflict, InvalidInput
from crisis.services.crises import report_crisis
from deadlines.services import DeadlineSpec, cancel_deadlines, schedule_deadlines_bulk
from directory.access import access_for
from directory.models import Desk
from exercises import scenario as files
from exercises.injects import INJECT_KIND, actor_for, announce_inject
from exercises.models import ExerciseRun, Inject, InjectStatus, RunStatus, Scenario
from exercises.selectors import controller_desk, run_for, scenario_source, shipped_scenarios

MAX_SPEED = 600


def _lead_desk(spec: files.ScenarioSpec) -> Desk:
    return Desk.objects.get(code=spec.crisis.lead_desk, is_active=True)


def upload_scenario(*, by, source: str) -> Scenario:
    """Store a scenario file after checking it (shape, values, the desks and states it
    names). Who: a coordinator, or a supervisor of the file's lead desk. Its key is its
    name, slugified; a name already taken (shipped or uploaded) is refused (409)."""
    if not isinstance(source, str):
        raise InvalidInput(_("Give the scenario file's text."), code="bad_field")
    spec = files.parse_scenario(source)
    files.check_references(spec)
    access = access_for(by)
    lead = _lead_desk(spec)
    controller_desk(access, lead)
    key = slugify(spec.name)[:80] or "scenario"
    if key in shipped_scenarios() or Scenario.objects.filter(key=key).exists():
        raise Conflict(
            _("A scenario named %(name)s exists already; give yours another name.")
            % {"name": spec.name},
            code="scenario_exists",
            details={"key": key},
        )
    try:
        with transaction.atomic():
            return Scenario.objects.create(
                key=key, name=spec.name, source=source, lead_desk=lead, uploaded_by=by
            )
    except IntegrityError:
        raise Conflict(
            _("A scenario named %(name)s exists already.") % {"name": spec.name},
            code="scenario_exists",
        ) from None


def _check_speed(speed) -> int:
    if isinstance(speed, bool) or not isinstance(speed, int) or not 1 <= speed <= MAX_SPEED:
        raise InvalidInput(
            _("speed is a whole number from 1 (real time) to %(max)d.") % {"max": MAX_SPEED},
            code="bad_field",
            details={"field": "speed"},
        )
    return speed


def _arm(injects: list[Inject]) -> None:
    schedule_deadlines_bulk(
        DeadlineSpec(INJECT_KIND, i.subject_key, i.due_at, {"inject_id": i.pk}) for i in injects
    )


def _due(run: ExerciseRun, at_seconds: int) -> datetime:
    """When an inject at ``at_seconds`` of scenario time is due, with the run running."""
    return run.started_at + timedelta(seconds=run.paused_seconds + at_seconds / run.speed)


def scenario_seconds(run: ExerciseRun, now: datetime | None = None) -> int:
    """How far the run's scenario clock has gone (stopped while paused)."""
    now = now or timezone.now()
    if run.status == RunStatus.PAUSED:
        now = run.paused_at
    elif run.status == RunStatus.ENDED:
        now = run.ended_at
    real = (now - run.started_at).total_seconds() - run.paused_seconds
    return max(0, int(real * run.speed))


def start_run(*, by, scenario_key: str, speed: int = 1) -> ExerciseRun:
    """Start a drill: open the exercise crisis and arm every inject of the scenario.

    Who: a coordinator or a supervisor of the scenario's lead desk. The crisis is reported
    in the lead desk's name (as its first supervisor). One transaction: nothing is
    written if the scenario, its desks or the crisis report are refused.
    """
    speed = _check_speed(speed)
    access = access_for(by)
    _origin, source = scenario_source(access, str(scenario_key))
    spec = files.parse_scenario(source)
    files.check_references(spec)
    lead = _lead_desk(spec)
    control = controller_desk(access, lead)
    desks = {d.code: d for d in Desk.objects.filter(code__in={i.desk for i in spec.injects})}
    with transaction.atomic():
        c = spec.crisis
        crisis = report_crisis(
            by=actor_for(lead), desk=lead, category=c.category, title=c.title,
            severity=c.severity, affected_state_codes=list(c.affected_states),
            description=c.description, latitude=c.latitude, longitude=c.longitude,
            admin_area=c.admin_area, exercise=True,
        )  # fmt: skip
        run = ExerciseRun.objects.create(
            scenario_key=str(scenario_key), scenario_name=spec.name, source=source,
            crisis=crisis, lead_desk=lead, started_by=by, controller_desk=control,
            speed=speed, started_at=timezone.now(),
        )  # fmt: skip
        injects = Inject.objects.bulk_create(
            [
                Inject(
                    run=run,
                    at_seconds=i.at_seconds,
                    type=i.type,
                    desk=desks[i.desk],
                    what=i.what,
                    fields=i.fields,
                    line=i.line,
                    due_at=_due(run, i.at_seconds),
                )
                for i in spec.injects
            ]
        )
        _arm(injects)
    return run


def _row(run: ExerciseRun, spec: files.InjectSpec, desk: Desk) -> Inject:
    return Inject(
        run=run, at_seconds=spec.at_seconds, type=spec.type, desk=desk, what=spec.what,
        fields=spec.fields, line=spec.line, due_at=_due(run, spec.at_seconds),
    )  # fmt: skip


def _locked_run(access, run_id) -> ExerciseRun:
    run = run_for(access, run_id)
    controller_desk(access, run.lead_desk)
    return ExerciseRun.objects.select_for_update().get(pk=run.pk)


def _withdraw(run: ExerciseRun, status: str, *, also_held: bool = False) -> int:
    """Cancel the deadlines of the run's scheduled injects and mark them ``status``.

    An inject whose deadline is firing right now holds its row lock: cancelling waits for
    it and then finds it fired, so that inject keeps what it played.
    """
    withdrawn = 0
    for inject in run.injects.filter(status=InjectStatus.SCHEDULED).order_by("pk"):
        if cancel_deadlines(kind=INJECT_KIND, subject_key=inject.subject_key):
            withdrawn += Inject.objects.filter(pk=inject.pk, status=InjectStatus.SCHEDULED).update(
                status=status
            )
    if also_held:
        withdrawn += run.injects.filter(status=InjectStatus.HELD).update(status=status)
    return withdrawn


def _refused(run: ExerciseRun, verb: str) -> Conflict:
    return Conflict(
        _("The run is %(status)s; it cannot be %(verb)s.")
        % {"status": run.get_status_display().lower(), "verb": verb},
        code="run_state",
        details={"status": run.status},
    )


def pause_run(*, by, run_id) -> ExerciseRun:
    """Hold the run: pending injects' deadlines are withdrawn (``held``) until resumed."""
    access = access_for(by)
    with transaction.atomic():
        run = _locked_run(access, run_id)
        if run.status != RunStatus.RUNNING:
            raise _refused(run, _("paused"))
        _withdraw(run, InjectStatus.HELD)
        run.status, run.paused_at = RunStatus.PAUSED, timezone.now()
        run.save(update_fields=["status", "paused_at"])
    return run


def resume_run(*, by, run_id) -> ExerciseRun:
    """Go on: every held inject is re-armed, later by exactly the length of the pause."""
    access = access_for(by)
    with transaction.atomic():
        run = _locked_run(access, run_id)
        if run.status != RunStatus.PAUSED:
            raise _refused(run, _("resumed"))
        now = timezone.now()
        pause = now - run.paused_at
        run.paused_seconds += pause.total_seconds()
        run.status, run.paused_at = RunStatus.RUNNING, None
        run.save(update_fields=["status", "paused_at", "paused_seconds"])
        held = list(run.injects.filter(status=InjectStatus.HELD).order_by("pk"))
        for inject in held:
            inject.due_at += pause
            inject.status = InjectStatus.SCHEDULED
        Inject.objects.bulk_update(held, ["due_at", "status"])
        _arm(held)
    return run


def add_inject(*, by, run_id, inject: dict) -> Inject:
    """Add an inject to a running or paused run. ``at`` is scenario time (``T+20 min``) or
    ``now`` (the default); a time already passed plays at once. Checked like a file's."""
    access = access_for(by)
    with transaction.atomic():
        run = _locked_run(access, run_id)
        if run.status == RunStatus.ENDED:
            raise _refused(run, _("given more injects"))
        data = dict(inject) if isinstance(inject, dict) else inject
        if isinstance(data, dict) and data.get("at") in (None, "", "now"):
            data["at"] = files.format_offset(scenario_seconds(run))
        spec = files.read_live_inject(data, lead_desk=run.lead_desk.code)
        files.check_inject_reference(spec)
        desk = Desk.objects.get(code=spec.desk)
        row = Inject.objects.create(
            run=run, at_seconds=spec.at_seconds, type=spec.type, desk=desk, what=spec.what,
            fields=spec.fields, due_at=max(_due(run, spec.at_seconds), timezone.now()),
            added_by=by,
            status=InjectStatus.SCHEDULED if run.status == RunStatus.RUNNING else InjectStatus.HELD,
        )  # fmt: skip
        if row.status == InjectStatus.HELD:
            # Resuming shifts it by the whole pause: count from the moment of pausing.
            row.due_at = max(_due(run, spec.at_seconds), run.paused_at)
            row.save(update_fields=["due_at"])
        else:
            _arm([row])
        announce_inject(row)
    return row


def end_run(*, by, run_id) -> ExerciseRun:
    """End the run: injects not played yet are withdrawn. The crisis stays as it is."""
    access = access_for(by)
    with transaction.atomic():
        run = _locked_run(access, run_id)
        if run.status == RunStatus.ENDED:
            raise _refused(run, _("ended"))
        _withdraw(run, InjectStatus.WITHDRAWN, also_held=True)
        run.status, run.paused_at, run.ended_at = RunStatus.ENDED, None, timezone.now()
        run.save(update_fields=["status", "paused_at", "ended_at"])
    return run


__all__ = [
    "add_inject",
    "end_run",
    "pause_run",
    "resume_run",
    "start_run",
    "upload_scenario",
]
