"""Console pages of the humanitarian area: thin edges over the services and selectors."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.console.shell import (
    console_view,
    current_desk,
    render_console,
    run_action,
    zone_help,
)
from core.errors import DomainError, InvalidInput, NotFound
from crisis.console.banners import exercise_page_banner
from crisis.console.desks import acting_desk
from crisis.lifecycle import OPEN_STATUSES
from crisis.selectors import crises_visible_to
from directory.access import access_for
from humanitarian.console import registers
from humanitarian.console.chart import gap_chart_svg, occupancy_sparkline, rows_from_gaps
from humanitarian.models import (
    ITEM_CHOICES,
    Priority,
    RequestStatus,
    Sector,
    ShelterStatus,
)
from humanitarian.selectors import (
    aid_board,
    displacement_visible_to,
    pledges_visible_to,
    requests_visible_to,
    shelters_visible_to,
    situation_reports_visible_to,
    visible_crisis,
)
from humanitarian.services import assistance, displacement, standby
from humanitarian.services._common import MAX_COUNT
from humanitarian.services.gaps import gap_figures

EXPORT_KINDS = ("requests", "pledges", "deliveries", "shelters", "displacement")


class RequestForm(forms.Form):
    """``needed_by`` is typed on the desk's clock: console_view runs in the desk's zone,
    so the field reads it there; its help says which zone."""

    sector = forms.ChoiceField(choices=Sector.choices, label=gettext_lazy("Sector"))
    item = forms.ChoiceField(choices=ITEM_CHOICES, label=gettext_lazy("Item"))
    quantity = forms.IntegerField(min_value=1, max_value=MAX_COUNT, label=gettext_lazy("Quantity"))
    needed_by = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        label=gettext_lazy("Needed by"),
    )
    priority = forms.ChoiceField(
        choices=Priority.choices, initial=Priority.NORMAL, label=gettext_lazy("Priority")
    )
    location = forms.CharField(max_length=200, required=False, label=gettext_lazy("Location"))

    def __init__(self, *args, desk=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["needed_by"].help_text = zone_help(desk)


def _chart(crisis):
    figures = gap_figures(crisis=crisis)
    title = _("Requested, pledged and delivered per item — %(ref)s") % {"ref": crisis.reference}
    return gap_chart_svg(rows_from_gaps(figures), title=title), figures


def aid_panel(request, access, desk, *, crisis):
    """Crisis page panel: the gap chart and a link to the board."""
    chart, figures = _chart(crisis)
    requests_ = (
        requests_visible_to(access)
        .filter(crisis=crisis)
        .exclude(status=RequestStatus.DRAFT)
        .annotate(pledge_count=Count("pledges"))
        .order_by("-priority", "needed_by", "pk")[:10]
    )
    return "humanitarian/console/panel_aid.html", {
        "crisis": crisis,
        "chart": chart,
        "figures": figures,
        "requests": list(requests_),
    }


@console_view
def board_index(request):
    """The board of the most recent open crisis the desk sees (or a list to pick from)."""
    access = access_for(request.user)
    crises = list(crises_visible_to(access).filter(status__in=OPEN_STATUSES)[:30])
    if len(crises) == 1:
        return redirect("console:aid-board", crisis_id=crises[0].pk)
    return render_console(request, "humanitarian/console/index.html", {"crises": crises})


@console_view
def board(request, crisis_id: int):
    """The humanitarian board of a crisis: needs and pledges, shelters, displacement."""
    import_job = request.GET.get("import", "")
    access = access_for(request.user)
    desk = current_desk(request)
    board = aid_board(
        access,
        desk=desk,
        crisis_id=crisis_id,
        import_job_id=int(import_job) if import_job.isdigit() else None,
    )
    chart, figures = _chart(board.crisis)
    editable = registers.editable_shelter_ids(access, board.shelters)
    return render_console(
        request,
        "humanitarian/console/board.html",
        {
            "board": board,
            "crisis": board.crisis,
            "chart": chart,
            "figures": figures,
            "page_banners": exercise_page_banner(board.crisis),
            "shelters": [
                (s, occupancy_sparkline(s.occupancy.all()), s.pk in editable)
                for s in board.shelters
            ],
            "shelter_statuses": ShelterStatus.choices,
            "shelter_form": (
                registers.NewShelterForm(auto_id="new-shelter-%s")
                if registers.may_register_shelter(access, desk, board.crisis)
                else None
            ),
            "request_form": RequestForm(desk=desk) if board.may_request else None,
            "exports": [
                (kind, reverse("hum-export", kwargs={"kind": kind}) + f"?crisis={crisis_id}")
                for kind in EXPORT_KINDS
            ],
            "parts": ("aid", "import"),
        },
    )


def _back(crisis_id: int, **query) -> str:
    url = reverse("console:aid-board", kwargs={"crisis_id": crisis_id})
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def _int(value, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(_("%(name)s must be a whole number.") % {"name": name}) from None
    if abs(number) > MAX_COUNT:
        raise InvalidInput(
            _("%(name)s is too large (at most %(max)s).") % {"name": name, "max": MAX_COUNT}
        )
    return number


def _act(request, crisis_id: int, action, success: str):
    """Run one service call; its refusal becomes a message on the board."""
    return run_action(request, action, success=success, redirect_to=_back(crisis_id))


@require_POST
@console_view
def new_request(request, crisis_id: int):
    access = access_for(request.user)
    crisis = visible_crisis(access, crisis_id)
    form = RequestForm(request.POST)
    if not form.is_valid():
        return registers.form_refused(request, form, _back(crisis.pk))
    data = form.cleaned_data
    needed_by: datetime = data["needed_by"]  # aware: read in the desk's zone
    if timezone.is_naive(needed_by):
        needed_by = timezone.make_aware(needed_by)
    return _act(
        request,
        crisis.pk,
        lambda: assistance.create_request(
            by=request.user,
            desk=acting_desk(request),
            crisis=crisis,
            sector=data["sector"],
            item=data["item"],
            quantity=data["quantity"],
            needed_by=needed_by,
            priority=data["priority"],
            location=data["location"],
            submit=True,
        ),
        _("Request opened."),
    )


@require_POST
@console_view
def pledge(request, request_id: int):
    access = access_for(request.user)
    req = requests_visible_to(access).filter(pk=request_id).first()
    if req is None:
        raise NotFound(_("No such request."))
    asset_id = request.POST.get("asset")
    if asset_id:
        action = lambda: standby.offer_from_asset(  # noqa: E731
            by=request.user, asset_id=_int(asset_id, _("Asset")), request_id=req.pk
        )
    else:
        quantity = _int(request.POST.get("quantity"), _("Quantity"))
        action = lambda: assistance.make_pledge(  # noqa: E731
            by=request.user, desk=acting_desk(request), request_id=req.pk, quantity=quantity
        )
    return _act(
        request, req.crisis_id, action, _("Pledged against %(ref)s.") % {"ref": req.reference}
    )


@require_POST
@console_view
def pledge_action(request, pledge_id: int, action: str):
    access = access_for(request.user)
    seen = pledges_visible_to(access).filter(pk=pledge_id).first()
    if seen is None:
        raise NotFound(_("No such pledge."))
    by = request.user
    calls = {
        "accept": (
            lambda: assistance.accept_pledge(by=by, pledge_id=seen.pk),
            _("Pledge accepted."),
        ),
        "decline": (
            lambda: assistance.decline_pledge(
                by=by, pledge_id=seen.pk, reason=request.POST.get("reason", "")
            ),
            _("Pledge declined."),
        ),
        "dispatch": (
            lambda: assistance.dispatch_pledge(by=by, pledge_id=seen.pk),
            _("Dispatched."),
        ),
        "confirm": (
            lambda: assistance.confirm_delivery(
                by=by,
                pledge_id=seen.pk,
                quantity_received=_int(
                    request.POST.get("quantity_received"), _("Quantity received")
                ),
                notes=request.POST.get("notes", ""),
            ),
            _("Receipt confirmed."),
        ),
    }
    if action not in calls:
        raise InvalidInput(_("Unknown action %(action)r.") % {"action": action})
    call, success = calls[action]
    return _act(request, seen.crisis_id, call, success)


@require_POST
@console_view
def import_csv(request, crisis_id: int):
    access = access_for(request.user)
    crisis = visible_crisis(access, crisis_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a CSV file to import."))
        return redirect(_back(crisis.pk))
    try:
        job = displacement.start_import(
            by=request.user,
            desk=acting_desk(request),
            crisis=crisis,
            content=upload,
            filename=upload.name,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_back(crisis.pk))
    return redirect(_back(crisis.pk, **{"import": job.pk}) + "#import")


# --- situation reports ------------------------------------------------------------------

_SITREP_TIMES = ("generated_at",)


def _as_times(content: dict) -> dict:
    """The report's ISO times as datetimes, for ``dual_time`` (the desk's zone and UTC)."""
    out = dict(content)
    for key in _SITREP_TIMES:
        out[key] = parse_datetime(content[key]) if content.get(key) else None
    escalation = dict(content.get("escalation") or {})
    deadline = escalation.get("level_deadline_at")
    escalation["level_deadline_at"] = parse_datetime(deadline) if deadline else None
    out["escalation"] = escalation
    updates = dict(content.get("situation_updates") or {"total": 0, "not_quoted": 0, "latest": []})
    updates["latest"] = [
        {**u, "posted_at": parse_datetime(u["posted_at"])} for u in updates.get("latest", [])
    ]
    out["situation_updates"] = updates
    return out


@console_view
def sitreps(request, crisis_id: int):
    """The crisis's daily situation reports, newest first."""
    access = access_for(request.user)
    crisis = visible_crisis(access, crisis_id)
    reports = situation_reports_visible_to(access).filter(crisis=crisis).order_by("-report_date")
    return render_console(
        request,
        "humanitarian/console/sitreps.html",
        {"crisis": crisis, "reports": list(reports)},
    )


@console_view
def sitrep(request, sitrep_id: int):
    """One situation report as a page to read and print (print stylesheet)."""
    access = access_for(request.user)
    report = situation_reports_visible_to(access).filter(pk=sitrep_id).first()
    if report is None:
        raise NotFound(_("No such situation report."), details={"sitrep": sitrep_id})
    return render_console(
        request,
        "humanitarian/console/sitrep.html",
        {"report": report, "crisis": report.crisis, "c": _as_times(report.content)},
    )


@console_view
def region_map(request):
    """The region map: open crises, their shelters (occupancy) and displacement by area."""
    from humanitarian.console.map import (
        CrisisPoint,
        ShelterPoint,
        area_figures,
        region_map_svg,
    )

    access = access_for(request.user)
    open_crises = list(
        crises_visible_to(access).filter(status__in=OPEN_STATUSES).order_by("-severity", "pk")
    )
    crisis_ids = [c.pk for c in open_crises]
    points = [
        CrisisPoint(c.pk, c.reference, c.title, c.severity, float(c.latitude),
                    float(c.longitude), c.admin_area)
        for c in open_crises
        if c.latitude is not None and c.longitude is not None
    ]  # fmt: skip
    shelters = [
        ShelterPoint(
            s.pk, s.name, s.population, s.capacity,
            float(s.latitude) if s.latitude is not None else None,
            float(s.longitude) if s.longitude is not None else None,
            s.admin1_code or s.admin1_name, s.country.code,
        )
        for s in shelters_visible_to(access).filter(crisis_id__in=crisis_ids).order_by("name")
    ]  # fmt: skip
    areas = area_figures(
        displacement_visible_to(access).filter(crisis_id__in=crisis_ids), shelters, points
    )
    return render_console(
        request,
        "humanitarian/console/map.html",
        {
            "map": region_map_svg(crises=points, shelters=shelters, areas=areas),
            "crises": open_crises,
            "shelters": shelters,
            "areas": [a for a in areas if a.total],
            "unplaced": [c for c in open_crises if c.latitude is None or c.longitude is None],
        },
    )
