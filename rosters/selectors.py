"""Reads of rosters, scoped to the caller, and the one answer to "who is on duty?".

:func:`on_duty` is the only place that decides who is on duty at a desk at a moment; the
API, the console and paging all call it. The rules, in order:

1. An override covering the moment wins: its person (or people, if several overlap) is
   on duty, whatever the shifts say.
2. Otherwise everyone whose shift covers the moment.
3. Otherwise the desk's supervisors, and the answer says it is the fallback.

Intervals are half-open: a shift from 08:00 to 20:00 covers 08:00 but not 20:00, so at a
boundary the incoming person is on duty. Only people who are still the desk's active
members in a writing role count (someone who left the desk is never paged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound
from directory.access import Access
from directory.models import WRITING_ROLES, Desk, DeskMembership, Role
from rosters import ical, rules
from rosters.models import HandoverNote, Override, Roster, Shift

#: How far ahead ``OnDuty.until`` looks for the next change.
HORIZON = timedelta(days=14)


@dataclass(frozen=True)
class OnDuty:
    """Who is on duty at ``at``, whether that is the supervisors' fallback, and ``until``:
    the moment the answer next changes (None: not within ``HORIZON``)."""

    people: tuple  # tuple[User, ...], ordered: earliest start first, then username
    is_fallback: bool
    until: datetime | None
    at: datetime


# --- scoped reads -------------------------------------------------------------------------


def rosters_visible_to(access: Access) -> QuerySet[Roster]:
    """Rosters of the caller's desks and their state's desks; every desk's for
    coordinators, auditors and superusers."""
    if not access.is_authenticated:
        return Roster.objects.none()
    rosters = Roster.objects.select_related("desk", "desk__state").filter(desk__is_active=True)
    if access.sees_all_states:
        return rosters
    return rosters.filter(desk__state_id__in=access.state_ids) | rosters.filter(
        desk_id__in=access.desk_ids
    )


def roster_for(access: Access, roster_id) -> Roster:
    """One roster the caller may read; hidden and missing are both 404."""
    try:
        roster_id = int(roster_id)
    except (ValueError, TypeError):
        raise NotFound(_("No such roster.")) from None
    found = rosters_visible_to(access).filter(pk=roster_id).first() if roster_id < 2**63 else None
    if found is None:
        raise NotFound(_("No such roster."))
    return found


def desk_for(access: Access, code: str) -> Desk:
    """A desk whose roster the caller may read, by code; hidden and missing are both 404."""
    desk = Desk.objects.filter(code__iexact=str(code)[:32], is_active=True).first()
    if desk is None or not rules.may_read(access, desk):
        raise NotFound(
            _("No such desk: %(code)s.") % {"code": repr(str(code)[:32])},
            details={"desk": str(code)[:32]},
        )
    return desk


def shift_for(access: Access, shift_id: int) -> Shift:
    """A shift on a roster the caller may read; hidden and missing are both 404."""
    found = (
        Shift.objects.select_related("roster__desk")
        .filter(pk=shift_id, roster__in=rosters_visible_to(access))
        .first()
    )
    if found is None:
        raise NotFound(_("No such shift."))
    return found


def override_for(access: Access, override_id: int) -> Override:
    """An override on a roster the caller may read; hidden and missing are both 404."""
    found = (
        Override.objects.select_related("roster__desk")
        .filter(pk=override_id, roster__in=rosters_visible_to(access))
        .first()
    )
    if found is None:
        raise NotFound(_("No such override."))
    return found


def shifts_of(roster: Roster) -> QuerySet[Shift]:
    return roster.shifts.select_related("person")


def overrides_of(roster: Roster, *, ending_after: datetime | None = None) -> QuerySet[Override]:
    overrides = roster.overrides.select_related("person")
    if ending_after is not None:
        overrides = overrides.filter(ends_at__gt=ending_after)
    return overrides


def handover_notes_of(roster: Roster, *, limit: int = 20) -> list[HandoverNote]:
    return list(roster.handover_notes.select_related("author")[:limit])


# --- who is on duty -----------------------------------------------------------------------


def on_duty(desk: Desk, *, at: datetime | None = None) -> OnDuty:
    """Who is on duty at ``desk`` at ``at`` (aware; default now). Not scoped: callers
    resolve the desk through a scoped read (``desk_for``) or act for the system (paging).
    Reads: the roster, its shifts and overrides near ``at``, the desk's members (4 queries).
    """
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValueError("on_duty needs an aware datetime")
    at = at.astimezone(UTC)
    horizon = at + HORIZON
    members = {
        m.user_id: m
        for m in DeskMembership.objects.filter(
            desk=desk, role__in=WRITING_ROLES, user__is_active=True
        ).select_related("user")
    }
    supervisors = tuple(
        sorted(
            (m.user for m in members.values() if m.role == Role.SUPERVISOR),
            key=lambda u: u.get_username(),
        )
    )
    roster = Roster.objects.filter(desk=desk).first()
    shift_spans: list[tuple[datetime, datetime, object]] = []
    override_spans: list[tuple[datetime, datetime, object]] = []
    if roster is not None:
        zone = desk.zone
        for shift in shifts_of(roster).filter(person_id__in=members):
            for begins, ends in ical.shift_occurrences(shift, zone, at, horizon):
                shift_spans.append((begins, ends, shift.person))
        for override in overrides_of(roster, ending_after=at).filter(
            starts_at__lt=horizon, person_id__in=members
        ):
            override_spans.append((override.starts_at, override.ends_at, override.person))

    def answer(moment: datetime) -> tuple[tuple, bool]:
        for spans in (override_spans, shift_spans):
            covering = sorted(
                (s for s in spans if s[0] <= moment < s[1]),
                key=lambda s: (s[0], s[2].get_username()),
            )
            if covering:
                people = tuple(dict.fromkeys(s[2] for s in covering))
                return people, False
        return supervisors, True

    people, is_fallback = answer(at)
    until = None
    boundaries = sorted(
        {t for s in (*shift_spans, *override_spans) for t in s[:2] if at < t <= horizon}
    )
    for boundary in boundaries:
        if answer(boundary) != (people, is_fallback):
            until = boundary
            break
    return OnDuty(people=people, is_fallback=is_fallback, until=until, at=at)
