"""The daily humanitarian situation report of a crisis, posted to its timeline.

Shaped after EDXL-SitRep's ResponseResourcesTotals and SituationInformation: needs and
gaps per sector, pledges and deliveries, displacement, shelters, and where the
crisis's escalation stands. One report per crisis and day (idempotent).
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from core.exercise import EXERCISE_MARK
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


def situation_content(crisis: Crisis) -> dict:
    gaps = gap_figures(crisis=crisis)
    pledges = dict(
        Pledge.objects.filter(crisis=crisis)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    shelters = Shelter.objects.filter(crisis=crisis).aggregate(
        sites=Count("id"), population=Sum("population"), capacity=Sum("capacity")
    )
    return {
        "crisis": gaps["crisis"],
        "exercise": crisis.exercise,
        "crisis_status": crisis.status,
        "escalation": {"state": crisis.escalation_state, "level": crisis.current_level},
        "needs": gaps["needs"],
        "coverage_pct": gaps["coverage_pct"],
        "sectors": gaps["sectors"],
        "overdue": gaps["overdue"],
        "pledges_by_status": pledges,
        "displacement": _displacement(crisis),
        "shelters": {k: v or 0 for k, v in shelters.items()},
    }


def render_text(content: dict, report_date: date) -> str:
    c = content["crisis"]
    lines = (
        [EXERCISE_MARK, "This is an exercise (drill), not a real crisis.", ""]
        if content.get("exercise")
        else []
    )
    lines += [
        f"SITUATION REPORT {c['reference']} {report_date.isoformat()} — {c['title']}",
        f"Crisis status: {content['crisis_status']}; escalation: "
        f"{content['escalation']['state']} (level {content['escalation']['level'] or '-'})",
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
