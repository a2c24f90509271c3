"""Reads of the exercises area, scoped to the caller.

Who may *control* a drill (start, pause, resume, add injects, end, upload a scenario): a
coordinator of the regional centre, or a supervisor of the scenario's lead desk. The
same people read the scenarios and runs they may control; auditors read all of them.
Nobody else sees a run (404): the players must not read the injects before they come.
"""

from __future__ import annotations

from pathlib import Path

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.errors import NotFound, PermissionDenied
from directory.access import Access
from directory.models import Desk, Role
from exercises.models import ExerciseRun, Inject, Scenario

#: The scenarios shipped with the service (demo and templates to copy).
SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


def supervised_desk_ids(access: Access) -> set[int]:
    return {m.desk_id for m in access.memberships if m.role == Role.SUPERVISOR}


def may_read_all(access: Access) -> bool:
    return (
        access.is_coordinator
        or access.is_auditor
        or bool(getattr(access.user, "is_superuser", False))
    )


def controller_desk(access: Access, lead_desk: Desk) -> Desk:
    """The desk the caller controls a drill led by ``lead_desk`` from; 403 if they may not."""
    for m in access.memberships:
        if m.role == Role.COORDINATOR:
            return m.desk
    for m in access.memberships:
        if m.role == Role.SUPERVISOR and m.desk_id == lead_desk.pk:
            return m.desk
    raise PermissionDenied(
        _(
            "Only a coordinator or a supervisor of the lead desk (%(desk)s) may control "
            "this exercise."
        )
        % {"desk": lead_desk.code},
        code="not_exercise_controller",
    )


def may_see_lead(access: Access, lead_desk_id: int) -> bool:
    return may_read_all(access) or lead_desk_id in supervised_desk_ids(access)


# --- scenarios ------------------------------------------------------------------------------


def shipped_scenarios() -> dict[str, str]:
    """Key (file name without ``.yaml``) → text, for the files shipped in ``scenarios/``."""
    return {
        path.stem: path.read_text(encoding="utf-8") for path in sorted(SCENARIO_DIR.glob("*.yaml"))
    }


def uploaded_scenarios_visible_to(access: Access) -> QuerySet[Scenario]:
    rows = Scenario.objects.select_related("lead_desk").order_by("name", "pk")
    if may_read_all(access):
        return rows
    return rows.filter(lead_desk_id__in=supervised_desk_ids(access))


def may_list_scenarios(access: Access) -> bool:
    return may_read_all(access) or bool(supervised_desk_ids(access))


def scenario_source(access: Access, key: str) -> tuple[str, str]:
    """``(origin, text)`` of the scenario ``key`` the caller may see (404 otherwise);
    origin is ``shipped`` or ``uploaded``."""
    if not may_list_scenarios(access):
        raise NotFound(_("No such scenario."), details={"scenario": key})
    shipped = shipped_scenarios()
    if key in shipped:
        return "shipped", shipped[key]
    row = uploaded_scenarios_visible_to(access).filter(key=key).first()
    if row is None:
        raise NotFound(_("No such scenario."), details={"scenario": key})
    return "uploaded", row.source


# --- runs -------------------------------------------------------------------------------------


def runs_visible_to(access: Access) -> QuerySet[ExerciseRun]:
    runs = ExerciseRun.objects.select_related(
        "crisis", "lead_desk", "controller_desk", "started_by"
    )
    if not access.is_authenticated:
        return runs.none()
    if may_read_all(access):
        return runs
    return runs.filter(Q(lead_desk_id__in=supervised_desk_ids(access)) | Q(started_by=access.user))


def run_for(access: Access, run_id) -> ExerciseRun:
    try:
        run_id = int(run_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such exercise run."), details={"run": run_id}) from None
    if not 0 < run_id < 2**63:
        raise NotFound(_("No such exercise run."), details={"run": run_id})
    run = runs_visible_to(access).filter(pk=run_id).first()
    if run is None:
        raise NotFound(_("No such exercise run."), details={"run": run_id})
    return run


def injects_of(run: ExerciseRun) -> QuerySet[Inject]:
    return run.injects.select_related("desk", "added_by", "run__lead_desk").order_by(
        "due_at", "at_seconds", "pk"
    )
