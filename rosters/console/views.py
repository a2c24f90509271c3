"""The current desk's duty roster in the console: who is on duty now and until when,
the shifts, the cover ("I cover tonight") and the handover notes.

Everyone on the desk reads it; the desk's supervisors (and coordinators) add and remove
shifts and cover; the desk's writing members write handover notes. Only the forms the
person may use are shown. Times are typed in the desk's zone (the form says which) and
shown in it with UTC beside; durations in minutes. Writes call ``rosters.services``.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.console.shell import console_view, current_desk, render_console, run_action
from core.errors import DomainError, InvalidInput, NotFound
from directory.access import access_for
from directory.models import WRITING_ROLES, DeskMembership
from rosters import rules, selectors, services
from rosters.models import Roster
from rosters.times import instant, wall_clock

#: The repeat choices the form offers (an RFC 5545 rule each; the API takes any rule).
REPEATS = {
    "": "",
    "daily": "FREQ=DAILY",
    "weekdays": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "weekly": "FREQ=WEEKLY",
}


def _desk(request):
    desk = current_desk(request)
    if desk is None:
        raise NotFound(_("You are not on any desk."))
    return desk


def _people(desk):
    """The desk's people who may go on its roster (active, writing role)."""
    return [
        m.user
        for m in DeskMembership.objects.filter(
            desk=desk, role__in=WRITING_ROLES, user__is_active=True
        )
        .select_related("user")
        .order_by("user__username")
    ]


def _repeat_words(rrule: str) -> str:
    for key, rule in REPEATS.items():
        if rule == rrule:
            return {
                "": _("once"),
                "daily": _("every day"),
                "weekdays": _("on weekdays"),
                "weekly": _("every week"),
            }[key]
    return rrule


@console_view
def roster(request):
    access = access_for(request.user)
    desk = _desk(request)
    if not rules.may_read(access, desk):
        raise NotFound(_("No such roster."))
    now = timezone.now()
    roster = Roster.objects.filter(desk=desk).first()
    may_manage = rules.may_manage(access, desk)
    shifts = list(selectors.shifts_of(roster)) if roster else []
    for shift in shifts:
        shift.repeat_words = _repeat_words(shift.rrule)
    return render_console(
        request,
        "rosters/console/roster.html",
        {
            "on_duty": selectors.on_duty(desk, at=now),
            "roster": roster,
            "shifts": shifts,
            "overrides": list(selectors.overrides_of(roster, ending_after=now)) if roster else [],
            "notes": selectors.handover_notes_of(roster, limit=10) if roster else [],
            "may_manage": may_manage,
            "may_write_note": may_manage
            or (roster is not None and access.can_act_for(desk, roles=WRITING_ROLES)),
            "people": _people(desk) if may_manage else [],
            "repeats": [
                ("", _("once")),
                ("daily", _("every day")),
                ("weekdays", _("on weekdays")),
                ("weekly", _("every week")),
            ],
            "tonight": _tonight(desk, now),
        },
    )


def _tonight(desk, now):
    """Suggested cover: tonight 20:00 to tomorrow 08:00 in the desk's zone (form values)."""
    local = now.astimezone(desk.zone)
    start = local.replace(hour=20, minute=0, second=0, microsecond=0)
    if local >= start:
        start += timedelta(days=1)
    end = start + timedelta(hours=12)
    return {"starts": start.strftime("%Y-%m-%dT%H:%M"), "ends": end.strftime("%Y-%m-%dT%H:%M")}


def _open(request, desk) -> Roster:
    roster, _created = services.open_roster(by=request.user, desk=desk)
    return roster


def _back():
    return reverse("console:roster")


def _fail(request, exc: DomainError):
    messages.error(request, exc.message)
    return redirect(_back())


@require_POST
@console_view
def add_shift_view(request):
    desk = _desk(request)
    post = request.POST
    try:
        roster = _open(request, desk)
        try:
            minutes = int(post.get("duration_minutes", ""))
        except ValueError:
            raise InvalidInput(_("Length: give the shift's length in minutes.")) from None
        repeat = post.get("repeat", "")
        if repeat not in REPEATS:
            raise InvalidInput(_("Repeat: choose one of the offered repeats."))
        services.add_shift(
            by=request.user,
            roster=roster,
            person=post.get("person", ""),
            starts_local=wall_clock(post.get("starts", ""), desk.zone, field=_("starts")),
            duration_minutes=minutes,
            rrule=REPEATS[repeat],
        )
    except DomainError as exc:
        return _fail(request, exc)
    messages.success(request, _("Shift added."))
    return redirect(_back())


@require_POST
@console_view
def remove_shift_view(request, pk: int):
    shift = selectors.shift_for(access_for(request.user), pk)
    return run_action(
        request,
        lambda: services.remove_shift(by=request.user, shift=shift),
        success=_("Shift removed."),
        redirect_to=_back(),
    )


@require_POST
@console_view
def add_override_view(request):
    desk = _desk(request)
    post = request.POST
    try:
        roster = _open(request, desk)
        services.add_override(
            by=request.user,
            roster=roster,
            person=post.get("person") or request.user.get_username(),
            starts_at=instant(post.get("starts", ""), desk.zone, field=_("from")),
            ends_at=instant(post.get("ends", ""), desk.zone, field=_("until")),
            note=post.get("note", ""),
        )
    except DomainError as exc:
        return _fail(request, exc)
    messages.success(request, _("Cover added."))
    return redirect(_back())


@require_POST
@console_view
def remove_override_view(request, pk: int):
    override = selectors.override_for(access_for(request.user), pk)
    return run_action(
        request,
        lambda: services.remove_override(by=request.user, override=override),
        success=_("Cover removed."),
        redirect_to=_back(),
    )


#: The largest calendar file the console takes (as the API's raw calendar body).
ICS_LIMIT_BYTES = 2_621_440


@require_POST
@console_view
def import_calendar_view(request):
    """Import an iCalendar file (a calendar tool's export) into the desk's roster, all or
    nothing; "replace" removes the roster's shifts and cover first."""
    desk = _desk(request)
    upload = request.FILES.get("ics")
    try:
        if upload is None:
            raise InvalidInput(_("Choose a calendar file (.ics) to import."))
        if upload.size > ICS_LIMIT_BYTES:
            raise InvalidInput(
                _("The calendar is larger than %(limit)s bytes.") % {"limit": ICS_LIMIT_BYTES}
            )
        with transaction.atomic():  # a refused file starts no roster either
            result = services.import_calendar(
                by=request.user,
                roster=_open(request, desk),
                ics=upload.read(),
                replace=request.POST.get("replace") == "on",
            )
    except DomainError as exc:
        return _fail(request, exc)
    messages.success(
        request,
        _("Calendar imported: %(shifts)s shifts and %(covers)s covers added, %(removed)s removed.")
        % {"shifts": result.shifts, "covers": result.overrides, "removed": result.removed},
    )
    return redirect(_back())


@require_POST
@console_view
def handover_view(request):
    desk = _desk(request)
    roster = Roster.objects.filter(desk=desk).first()
    try:
        if roster is None:
            # Only a manager may make the roster; a note needs one to hang on.
            roster = _open(request, desk)
        services.write_handover_note(
            by=request.user, roster=roster, text=request.POST.get("text", "")
        )
    except DomainError as exc:
        return _fail(request, exc)
    messages.success(request, _("Handover note saved."))
    return redirect(_back())
