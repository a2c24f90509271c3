"""Console pages for crises: dashboard, crisis, report form."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from attachments.selectors import attachments_by_item
from audit.services import record_read
from core.console.shell import (
    console_view,
    current_desk,
    panels_for,
    render_console,
    run_action,
    safe_next,
    zone_help,
)
from core.errors import DomainError
from crisis import lifecycle
from crisis.console import selectors
from crisis.console.actions import crisis_action
from crisis.console.banners import exercise_page_banner
from crisis.console.desks import acting_desk
from crisis.console.forms import ReportCrisisForm
from crisis.selectors import is_party_to, notifications_for, pages_of_notifications, updates_of
from crisis.services.crises import (
    acknowledge_crisis,
    report_crisis,
    set_task_done,
    transition_crisis,
)
from crisis.services.notifications import mark_notification_read
from crisis.services.tasks import assignable_people
from crisis.services.tasks import may_assign as may_assign_tasks
from crisis.snapshot import ProtocolSnapshot
from directory.access import access_for
from directory.selectors import states_visible_to

TIMELINE_LIMIT = 100
#: Situation updates shown on a crisis page (newest first; the API has them all).
UPDATES_SHOWN = 20


@console_view
def dashboard(request):
    access = access_for(request.user)
    desk = current_desk(request)
    crises = list(selectors.open_crises_for(access, desk))
    awaiting = [c for c in crises if selectors.awaits_acknowledgement(c, desk)]
    tasks = list(selectors.open_tasks_for(access, desk)[:20])
    return render_console(
        request,
        "crisis/console/dashboard.html",
        {
            # Real crises and drills in tables of their own: never confused at a glance.
            "crises": [c for c in crises if not c.exercise],
            "exercises": [c for c in crises if c.exercise],
            "awaiting": awaiting,
            "tasks": tasks,
            "panels": panels_for("dashboard", request, access, desk, only=request.GET.get("panel")),
            "parts": ("crises",),
            "page_banners": exercise_page_banner(*crises),
        },
    )


@console_view
def crisis_detail(request, pk: int):
    access = access_for(request.user)
    desk = current_desk(request)
    crisis = selectors.crisis_for(access, pk)
    if access.sees_all_states and not request.GET.get("panel") and not is_party_to(access, crisis):
        record_read(
            user=request.user,
            what="crisis.read_not_party",
            object_type="crisis",
            object_id=crisis.pk,
            desk=desk,
        )
    can_act = desk is not None and access.can_act_for(desk)
    parties = lifecycle.parties_of(desk, crisis) if can_act else set()
    has_acked = selectors.has_acknowledged(crisis, desk)
    steps, waits = selectors.next_steps(access, desk, crisis)
    tasks = list(selectors.tasks_of(crisis, desk))
    may_tick = bool(parties) and crisis.status in lifecycle.ACTIVE_STATUSES
    may_assign = bool(parties and tasks) and may_assign_tasks(
        access, desk_id=desk.pk, crisis=crisis
    )
    for task in tasks:
        task.may_tick = may_tick or (bool(parties) and task.party_role == lifecycle.FOLLOW_UP_ROLE)
        task.due_local = task.due_at.astimezone(desk.zone).strftime("%Y-%m-%dT%H:%M")
    return render_console(
        request,
        "crisis/console/crisis_detail.html",
        {
            "crisis": crisis,
            "ladder": selectors.ladder_for(crisis),
            "checklist": ProtocolSnapshot.of(crisis).checklist,
            "tasks": tasks,
            "may_assign": may_assign,
            "assignable": list(assignable_people(tasks[0])) if may_assign else [],
            "due_help": zone_help(desk),
            "next_steps": steps,
            "waits": waits,
            "timeline": selectors.timeline_of(crisis, limit=TIMELINE_LIMIT),
            "updates": _with_attachments(access, updates_of(access, crisis)[:UPDATES_SHOWN]),
            "acknowledgements": selectors.acknowledgements_of(crisis),
            # The rule acknowledge_crisis checks: a party, while a level waits.
            "can_acknowledge": bool(parties)
            and crisis.status in lifecycle.ACTIVE_STATUSES
            and crisis.escalation_state in lifecycle.ACKNOWLEDGEABLE
            and not has_acked,
            "has_acked": has_acked,
            "cap_url": _cap_url(crisis),
            "panels": panels_for(
                "crisis", request, access, desk, crisis=crisis, only=request.GET.get("panel")
            ),
            "parts": ("summary", "timeline", "tasks", "updates"),
            "page_banners": exercise_page_banner(crisis),
        },
    )


def _with_attachments(access, updates) -> list:
    """The updates, each with the attachments the caller may see (``shown_attachments``)."""
    updates = list(updates)
    files = attachments_by_item(access, "crisis.situation_update", [u.pk for u in updates])
    for update in updates:
        update.shown_attachments = files.get(update.pk, [])
    return updates


def _cap_url(crisis) -> str | None:
    """The CAP 1.2 export of the crisis, where the API offers one."""
    from django.urls import NoReverseMatch

    for name in ("crisis-cap-xml", "crisis-cap"):
        try:
            return reverse(name, kwargs={"pk": crisis.pk})
        except NoReverseMatch:
            continue
    return None


@require_POST
@console_view
def acknowledge(request, pk: int):
    return crisis_action(
        request,
        pk,
        lambda crisis, desk, post: acknowledge_crisis(by=request.user, desk=desk, crisis=crisis),
        success=lambda c: (
            _("%(desk)s acknowledged %(reference)s.")
            % {"desk": acting_desk(request).code, "reference": c.reference}
        ),
    )


@require_POST
@console_view
def transition(request, pk: int):
    return crisis_action(
        request,
        pk,
        lambda crisis, desk, post: transition_crisis(
            by=request.user,
            desk=desk,
            crisis=crisis,
            to_status=post.get("to_status", ""),
            reason=post.get("reason", ""),
        ),
        success=lambda c: (
            _("%(reference)s is now %(status)s.")
            % {"reference": c.reference, "status": c.get_status_display().lower()}
        ),
    )


@require_POST
@console_view
def task_done(request, pk: int):
    task = selectors.task_for(access_for(request.user), pk)
    return run_action(
        request,
        lambda: set_task_done(by=request.user, task=task, done=request.POST.get("done") == "1"),
        success=None,
        redirect_to=safe_next(request, reverse("console:crisis", kwargs={"pk": task.crisis_id})),
    )


@console_view
def report_crisis_view(request):
    access = access_for(request.user)
    desk = current_desk(request)
    states = states_visible_to(access)
    initial = {"affected_states": [desk.state.code]} if desk and desk.state_id else {}
    form = ReportCrisisForm(request.POST or None, states=states, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            crisis = report_crisis(
                by=request.user,
                desk=acting_desk(request),
                category=data["category"],
                title=data["title"],
                severity=data["severity"],
                affected_state_codes=[s.code for s in data["affected_states"]],
                description=data["description"],
                latitude=data["latitude"],
                longitude=data["longitude"],
                admin_area=data["admin_area"],
                exercise=data["exercise"],
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            if crisis.exercise:
                messages.success(
                    request,
                    _("Started exercise %(reference)s: a drill, marked as such everywhere.")
                    % {"reference": crisis.reference},
                )
            else:
                messages.success(request, _("Reported %(ref)s.") % {"ref": crisis.reference})
            return redirect("console:crisis", pk=crisis.pk)
    # A form with errors is shown again with 200, as Django does (a 4xx would put a
    # network error in the browser's console for what is an ordinary correction).
    return render_console(request, "crisis/console/report.html", {"form": form, "desk": desk})


# --- the notification centre -------------------------------------------------------------------

NOTIFICATIONS_SHOWN = 100


@console_view
def notifications(request):
    """The caller's desks' notifications, newest first, each with the page that went with
    it and its deliveries (who, how, when, outcome); refreshed live."""
    access = access_for(request.user)
    rows = list(notifications_for(access)[:NOTIFICATIONS_SHOWN])
    pages = pages_of_notifications(access, rows)
    return render_console(
        request,
        "crisis/console/notifications.html",
        {
            "rows": [{"n": n, "page": pages.get(n.pk)} for n in rows],
            "unread": sum(1 for n in rows if n.read_at is None),
            "parts": ("notifications",),
        },
    )


@require_POST
@console_view
def notification_read(request, pk: int):
    return run_action(
        request,
        lambda: mark_notification_read(by=request.user, notification_id=pk),
        success=_("Marked read."),
        redirect_to=reverse("console:notifications"),
    )
