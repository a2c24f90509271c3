"""Console pages: performance per crisis and per desk (with SVG charts), and the
after-action review (draft, edit, publish). Thin edges over ``review.selectors`` and
``review.services``."""

from __future__ import annotations

from datetime import UTC

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.console.shell import console_view, current_desk, render_console, run_action
from core.errors import DomainError, NotFound
from crisis.console.desks import acting_desk
from crisis.lifecycle import FINISHED_STATUSES
from directory.access import access_for
from review import services
from review.console.charts import COLOURS, Bar, bar_chart, count, line_chart
from review.performance import crisis_performance, desk_performance, duration_text
from review.selectors import (
    desk_for_performance,
    may_edit,
    period_options,
    review_of,
    visible_crisis,
)

#: Blank action rows the edit form offers beyond the actions already written.
BLANK_ACTIONS = 3


def _crisis_charts(figures: dict) -> dict:
    desks = figures["desks"]
    notified = [d for d in desks if d["levels_notified"]]
    timeouts = [lv["timeout_seconds"] for lv in figures["levels"] if lv["timeout_seconds"]]
    ack_bars = [
        Bar(
            d["desk"],
            d["time_to_acknowledge"]["mean_seconds"],
            note=_("(%(acked)d of %(told)d levels)")
            % {"acked": d["levels_acknowledged"], "told": d["levels_notified"]},
        )
        for d in notified
    ]
    level_bars = [
        Bar(
            _("L%(level)s round %(round)s") % {"level": lv["level"], "round": lv["round"]},
            min((a["seconds"] for a in lv["acks"]), default=None)
            if lv["acks"]
            else lv["timeout_seconds"],
            colour=COLOURS["ok"] if lv["acks"] else COLOURS["late"],
            note=_("acknowledged by %(desk)s") % {"desk": lv["acks"][0]["desk"]}
            if lv["acks"]
            else _("expired, nobody acknowledged")
            if lv["outcome"] == "expired"
            else "",
        )
        for lv in figures["levels"]
    ]
    task_bars = [
        Bar(d["desk"], d["tasks_late"], colour=COLOURS["late"],
            note=_("of %(n)d tasks late") % {"n": d["tasks"]})
        for d in desks if d["tasks"]
    ]  # fmt: skip
    pledge_bars = [
        Bar(d["desk"], d["pledges_delivered"], colour=COLOURS["ok"],
            note=_("of %(n)d promised delivered") % {"n": d["pledges_promised"]})
        for d in desks if d["pledges_promised"]
    ]  # fmt: skip
    return {
        "ack": bar_chart(
            ack_bars,
            title=_("Mean time to acknowledge, per desk"),
            limit=min(timeouts) if timeouts else None,
            limit_label=_("shortest level timeout"),
        ),
        "levels": bar_chart(level_bars, title=_("Time to the first acknowledgement, per level")),
        "tasks": bar_chart(task_bars, title=_("Checklist tasks late, per desk"), fmt=count),
        "pledges": bar_chart(
            pledge_bars, title=_("Pledges delivered of those promised, per desk"), fmt=count
        ),
    }


@console_view
def crisis_performance_page(request, pk: int):
    access = access_for(request.user)
    crisis = visible_crisis(access, pk)
    figures = crisis_performance(crisis)
    return render_console(
        request,
        "review/console/crisis_performance.html",
        {
            "crisis": crisis,
            "figures": figures,
            "charts": _crisis_charts(figures),
            "first_ack": duration_text(figures["totals"]["time_to_first_ack_seconds"]),
        },
    )


@console_view
def my_performance(request):
    """The current desk's figures (the navigation entry)."""
    desk = current_desk(request)
    if desk is None:
        raise NotFound(_("You are not on any desk."), code="no_desk")
    return redirect("console:desk-performance", code=desk.code)


@console_view
def desk_performance_page(request, code: str):
    access = access_for(request.user)
    desk = desk_for_performance(access, code)
    options = period_options(request.GET)
    figures = desk_performance(desk, **options)
    points = [(p["period"], p["time_to_acknowledge"]["mean_seconds"]) for p in figures["periods"]]
    late = [
        Bar(p["period"], p["tasks_late"], colour=COLOURS["late"],
            note=_("of %(n)d tasks") % {"n": p["tasks"]})
        for p in figures["periods"]
    ]  # fmt: skip
    return render_console(
        request,
        "review/console/desk_performance.html",
        {
            "perf_desk": desk,
            "figures": figures,
            "options": options,
            "ack_chart": line_chart(
                points, title=_("Mean time to acknowledge per period, %(desk)s") % {"desk": code}
            ),
            "late_chart": bar_chart(late, title=_("Tasks late per period"), fmt=count),
            "rows": [
                {**p, "mean_text": duration_text(p["time_to_acknowledge"]["mean_seconds"])}
                for p in figures["periods"]
            ],
        },
    )


def _action_rows(review) -> list[dict]:
    rows = [
        {"title": a.title, "owner_desk": a.owner_desk.code,
         "owner": a.owner.username if a.owner else "",
         "due_at": a.due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")}
        for a in review.actions.all()
    ]  # fmt: skip
    return rows + [{"title": "", "owner_desk": "", "owner": "", "due_at": ""}] * BLANK_ACTIONS


@console_view
def review_page(request, pk: int):
    access = access_for(request.user)
    crisis = visible_crisis(access, pk)
    review = review_of(access, crisis)
    editor = may_edit(access, crisis)
    context = {
        "crisis": crisis,
        "review": review,
        "may_edit": editor and (review is None or not review.is_published),
        "may_draft": editor and review is None and crisis.status in FINISHED_STATUSES,
        "finished": crisis.status in FINISHED_STATUSES,
        "owner_desks": list(services.owner_desks(crisis).order_by("code")),
        "action_rows": _action_rows(review) if review else [],
        "highlights": (review.generated or {}).get("highlights", []) if review else [],
        "late_steps": (review.generated or {}).get("performance", {}).get("late_steps", [])
        if review
        else [],
    }
    return render_console(request, "review/console/review.html", context)


def _back(pk: int) -> str:
    return reverse("console:crisis-review", kwargs={"pk": pk})


@require_POST
@console_view
def review_draft(request, pk: int):
    crisis = visible_crisis(access_for(request.user), pk)
    return run_action(
        request,
        lambda: services.draft_review(by=request.user, desk=acting_desk(request), crisis=crisis),
        success=_("The review is drafted from the record. Edit it, then publish."),
        redirect_to=_back(pk),
    )


def _changes_from_form(post) -> dict:
    """The form's fields as ``update_review`` takes them (times entered in UTC)."""
    actions = []
    n = 0
    while f"action-{n}-title" in post and n < services.MAX_ACTIONS + BLANK_ACTIONS:
        title = post.get(f"action-{n}-title", "").strip()
        if title:
            due = parse_datetime(post.get(f"action-{n}-due_at", "").strip() or "-")
            actions.append(
                {
                    "title": title,
                    "owner_desk": post.get(f"action-{n}-owner_desk", ""),
                    "owner": post.get(f"action-{n}-owner", "").strip(),
                    "due_at": due.replace(tzinfo=UTC) if due and due.tzinfo is None else due,
                }
            )
        n += 1
    return {
        "what_happened": post.get("what_happened", ""),
        "went_well": post.get("went_well", ""),
        "to_change": post.get("to_change", ""),
        "actions": actions,
    }


@require_POST
@console_view
def review_edit(request, pk: int):
    crisis = visible_crisis(access_for(request.user), pk)
    try:
        services.update_review(
            by=request.user,
            desk=acting_desk(request),
            crisis=crisis,
            changes=_changes_from_form(request.POST),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Review saved."))
    return redirect(_back(pk))


@require_POST
@console_view
def review_publish(request, pk: int):
    crisis = visible_crisis(access_for(request.user), pk)
    return run_action(
        request,
        lambda: services.publish_review(by=request.user, desk=acting_desk(request), crisis=crisis),
        success=_("The review is published to the parties; its actions are now tasks."),
        redirect_to=_back(pk),
    )


def crisis_panel(request, access, desk, *, crisis):
    """Crisis page panel: links to the performance page and the review."""
    review = review_of(access, crisis)
    return "review/console/panel_crisis.html", {
        "crisis": crisis,
        "review": review,
        "may_draft": may_edit(access, crisis) and crisis.status in FINISHED_STATUSES,
    }
