"""The daily situation report of a crisis, posted to its timeline.

Shaped after EDXL-SitRep's SituationInformation, ManagementReportingSummary and
ResponseResourcesTotals, it covers the whole crisis: the latest situation updates, where
the escalation stands (level, acknowledgements), the protocol's tasks (done, open, late,
per desk), needs and gaps per sector, pledges and deliveries, shelters and displacement.
One report per crisis and day (idempotent). An exercise crisis's report says EXERCISE.

``content`` is the report's data (JSON); ``text`` is its plain-text form in English, the
record kept as posted. The console's page (``humanitarian/console``) renders ``content``
in the reader's language and time zone, and prints.
"""

from __future__ import annotations

import json
from datetime import date

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone

from core.exercise import EXERCISE_MARK
from core.tlp import TLP
from crisis.models import Crisis, CrisisStatus
from crisis.services import timeline
from humanitarian.models import DisplacementReport, Pledge, Shelter, SituationReport
from humanitarian.services._common import announce
from humanitarian.services.gaps import gap_figures

REPORTED_CRISIS_STATUSES = [CrisisStatus.ACTIVE, CrisisStatus.DE_ESCALATING]


def _displacement(crisis: Crisis) -> dict:
    latest = DisplacementReport.objects.filter(crisis=crisis).aggregate(round=Max("round"))["round"]
    if latest is None:
        return {"round": None, "idps": 0, "refugees": 0, "areas": 0}
    figures = DisplacementReport.objects.filter(crisis=crisis, round=latest).aggregate(
        idps=Sum("idps"), refugees=Sum("refugees"), areas=Count("id")
    )
    return {"round": latest, **figures}


#: Situation updates quoted in a sitrep: the latest few, and only those marked for
#: everyone who reads the sitrep (every party and the centre): TLP:CLEAR and TLP:GREEN.
QUOTED_UPDATES = 5
QUOTABLE_TLP = (TLP.CLEAR, TLP.GREEN)


def _situation_updates(crisis: Crisis) -> dict:
    updates = crisis.situation_updates.all()
    quotable = updates.filter(tlp__in=QUOTABLE_TLP).select_related("desk")
    latest = list(quotable.order_by("-posted_at", "-id")[:QUOTED_UPDATES])
    return {
        "total": updates.count(),
        "not_quoted": updates.exclude(tlp__in=QUOTABLE_TLP).count(),
        "latest": [
            {"posted_at": u.posted_at, "desk": u.desk.code, "tlp": u.tlp,
             "conditions": u.conditions, "actions": u.actions, "needs": u.needs}
            for u in latest
        ],
    }  # fmt: skip


def _escalation(crisis: Crisis) -> dict:
    acks = (
        crisis.acknowledgements.values("level")
        .annotate(desks=Count("desk", distinct=True))
        .order_by("level")
    )
    return {
        "state": crisis.escalation_state,
        "label": crisis.get_escalation_state_display(),
        "level": crisis.current_level,
        "level_deadline_at": crisis.level_deadline_at,
        "acknowledged": {str(row["level"]): row["desks"] for row in acks},
    }


def _tasks(crisis: Crisis, now) -> dict:
    late = Q(done_at__isnull=True, due_at__lt=now) | Q(done_at__gt=F("due_at"))
    per_desk = (
        crisis.tasks.values("desk__code")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(done_at__isnull=False)),
            late=Count("id", filter=late),
        )
        .order_by("desk__code")
    )
    rows = [
        {"desk": r["desk__code"], "total": r["total"], "done": r["done"], "late": r["late"]}
        for r in per_desk
    ]
    return {
        "total": sum(r["total"] for r in rows),
        "done": sum(r["done"] for r in rows),
        "late": sum(r["late"] for r in rows),
        "by_desk": rows,
    }


def situation_content(crisis: Crisis, now=None) -> dict:
    now = now or timezone.now()
    gaps = gap_figures(crisis=crisis, now=now)
    pledges = dict(
        Pledge.objects.filter(crisis=crisis)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    shelters = Shelter.objects.filter(crisis=crisis).aggregate(
        sites=Count("id"), population=Sum("population"), capacity=Sum("capacity")
    )
    content = {
        "crisis": gaps["crisis"],
        "exercise": crisis.exercise,
        "generated_at": now,
        "crisis_status": crisis.status,
        "crisis_status_label": crisis.get_status_display(),
        "severity": crisis.severity,
        "escalation": _escalation(crisis),
        "situation_updates": _situation_updates(crisis),
        "tasks": _tasks(crisis, now),
        "needs": gaps["needs"],
        "coverage_pct": gaps["coverage_pct"],
        "sectors": gaps["sectors"],
        "overdue": gaps["overdue"],
        "pledges_by_status": pledges,
        "displacement": _displacement(crisis),
        "shelters": {k: v or 0 for k, v in shelters.items()},
        "shelters_full": list(
            Shelter.objects.filter(crisis=crisis, population__gte=F("capacity"))
            .order_by("name")
            .values_list("name", flat=True)
        ),
    }
    # As stored: the JSON column gives back plain values (times as ISO strings).
    return json.loads(json.dumps(content, cls=DjangoJSONEncoder))


EXERCISE_LINE = EXERCISE_MARK


def render_text(content: dict, report_date: date) -> str:
    """The report as plain text (English, UTC): the record as posted."""
    c = content["crisis"]
    exercise = content.get("exercise", False)
    escalation = content["escalation"]
    lines = [EXERCISE_LINE] if exercise else []
    lines += [
        f"SITUATION REPORT {c['reference']} {report_date.isoformat()} — {c['title']}"
        + (" (EXERCISE)" if exercise else ""),
        f"Crisis status: {content['crisis_status']}; escalation: "
        f"{escalation['state']} (level {escalation['level'] or '-'})",
    ]
    if escalation.get("acknowledged"):
        acked = ", ".join(
            f"level {level}: {n} desk(s)" for level, n in escalation["acknowledged"].items()
        )
        lines.append(f"Acknowledged: {acked}")
    updates = content.get("situation_updates")
    if updates:
        lines += ["", f"SITUATION UPDATES: {updates['total']}"]
        for u in updates["latest"]:
            lines.append(
                f"  {u['posted_at'][:16].replace('T', ' ')} UTC {u['desk']}: {u['conditions']}"
            )
            if u["actions"]:
                lines.append(f"    Actions: {u['actions']}")
            if u["needs"]:
                lines.append(f"    Needs: {u['needs']}")
        if updates["not_quoted"]:
            lines.append(f"  ({updates['not_quoted']} marked for named recipients, not quoted)")
    tasks = content.get("tasks")
    if tasks:
        lines.append(f"TASKS: {tasks['done']} of {tasks['total']} done, {tasks['late']} late")
        for row in tasks["by_desk"]:
            lines.append(f"  {row['desk']}: {row['done']}/{row['total']} done, {row['late']} late")
    lines += [
        "",
        f"NEEDS: {content['needs']} posted, coverage {content['coverage_pct']} %",
    ]
    for s in content["sectors"]:
        lines.append(
            f"  {s['label']}: {s['needs']} needs, coverage {s['coverage_pct']} %, "
            f"delivered {s['delivered_pct']} %, overdue {s['overdue']}"
        )
        for row in s["items"]:
            lines.append(
                f"    {row['label']} ({row['unit']}): requested {row['requested']}, "
                f"pledged {row['pledged']}, accepted {row['accepted']}, "
                f"delivered {row['delivered']}, gap {row['gap']}"
            )
    lines.append(f"OVERDUE NEEDS: {len(content['overdue'])}")
    for o in content["overdue"]:
        lines.append(
            f"  {o['reference']} {o['state']} {o['item']} {o['quantity']} {o['unit']} "
            f"(delivered {o['delivered']}), {o['hours_overdue']} h past needed-by"
        )
    pledges = ", ".join(f"{k} {v}" for k, v in sorted(content["pledges_by_status"].items()))
    lines.append(f"PLEDGES: {pledges or 'none'}")
    d = content["displacement"]
    lines.append(
        f"DISPLACEMENT (round {d['round'] or '-'}): {d['idps'] or 0} IDPs, "
        f"{d['refugees'] or 0} refugees in {d['areas']} areas"
    )
    s = content["shelters"]
    lines.append(
        f"SHELTERS: {s['sites']} sites, {s['population']} people, capacity {s['capacity']}"
    )
    if content.get("shelters_full"):
        lines.append(f"  At or over capacity: {', '.join(content['shelters_full'])}")
    if exercise:
        lines.append(EXERCISE_LINE)
    return "\n".join(lines) + "\n"


def post_situation_report(*, crisis_id: int, report_date: date | None = None) -> SituationReport:
    """Compile and post the crisis's report for ``report_date`` (today, UTC) once.

    Idempotent: a second call for the same day returns the report already posted.
    """
    report_date = report_date or timezone.now().date()
    existing = SituationReport.objects.filter(crisis_id=crisis_id, report_date=report_date).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            crisis = Crisis.objects.get(pk=crisis_id)
            content = situation_content(crisis)
            report = SituationReport.objects.create(
                crisis=crisis,
                report_date=report_date,
                content=content,
                text=render_text(content, report_date),
            )
            timeline.record(
                kind="humanitarian.sitrep_posted",
                crisis=crisis,
                payload={"sitrep_id": report.pk, "report_date": report_date,
                         "needs": content["needs"], "coverage_pct": content["coverage_pct"],
                         "overdue": len(content["overdue"])},
            )  # fmt: skip
            announce(crisis, {"type": "humanitarian.sitrep_posted", "sitrep_id": report.pk})
    except IntegrityError:  # another worker posted it first
        return SituationReport.objects.get(crisis_id=crisis_id, report_date=report_date)
    return report


def active_crisis_ids() -> list[int]:
    return list(
        Crisis.objects.filter(status__in=REPORTED_CRISIS_STATUSES).values_list("pk", flat=True)
    )
