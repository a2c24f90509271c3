"""Writes to rosters: each a verb with keyword-only arguments, one transaction, the
permission check inside (``rosters.rules``), a ``core.errors`` error on refusal.

Who may call: any edge (API, admin, demo) on behalf of ``by``. The desk's supervisors and
the regional coordinators manage a roster; anyone who may not read it gets 404, a reader
who may not edit 403. A refused call writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.access import access_for
from core.errors import Conflict, InvalidInput
from core.text import require_xml_safe
from directory.models import WRITING_ROLES, Desk
from rosters import ical, rules
from rosters.models import HandoverNote, Override, Roster, Shift


def _person(desk: Desk, person) -> object:
    """A user (or username) who is one of the desk's people; else 400 naming ``person``."""
    if isinstance(person, str):
        person = get_user_model().objects.filter(username=person[:150]).first() or person
    rules.require_on_desk(desk, person)
    return person


def _manage(by, desk: Desk) -> None:
    rules.require_manage(access_for(by), desk)


def _save_with_uid(entry: Shift | Override, uid: str | None) -> None:
    """Save a new shift or override, keeping an iCalendar UID given by an import."""
    if uid:
        entry.uid = uid[:255]
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        raise Conflict(
            _("uid: the roster already has an entry with the UID %(uid)s.") % {"uid": repr(uid)},
            code="duplicate_uid",
            details={"uid": uid},
        ) from None


@transaction.atomic
def open_roster(*, by, desk: Desk) -> tuple[Roster, bool]:
    """The desk's roster, made if it has none: (roster, created). Idempotent."""
    _manage(by, desk)
    return Roster.objects.get_or_create(desk=desk)


@transaction.atomic
def add_shift(
    *,
    by,
    roster: Roster,
    person,
    starts_local: datetime,
    duration_minutes: int,
    rrule: str = "",
    until: datetime | None = None,
    uid: str | None = None,
) -> Shift:
    """Put ``person`` (a desk member) on a shift starting at ``starts_local`` (naive,
    the desk's wall clock), lasting ``duration_minutes``, repeating by ``rrule`` (RFC 5545,
    blank: once) until ``until`` (aware). A rule's own UNTIL becomes ``until``."""
    desk = roster.desk
    _manage(by, desk)
    person = _person(desk, person)
    rules.check_duration(duration_minutes)
    if starts_local.tzinfo is not None:
        raise InvalidInput(_("starts_local: give the desk's wall-clock time, without an offset."))
    rrule, rule_until = rules.normalize_rrule(rrule)
    until = rule_until or until
    first = starts_local.replace(tzinfo=desk.zone)
    if until is not None and until < first:
        raise InvalidInput(
            _("until: the rule ends before the first shift starts."),
            details={"fields": {"until": ["before the first shift"]}},
        )
    ical.check_rule_repeats(rrule, until, first)
    shift = Shift(
        roster=roster,
        person=person,
        first_date=starts_local.date(),
        start_time=starts_local.time(),
        duration_minutes=duration_minutes,
        rrule=rrule,
        until=until if rrule else None,
        created_by=by,
    )
    _save_with_uid(shift, uid)
    roster.save(update_fields=["updated_at"])
    return shift


@transaction.atomic
def remove_shift(*, by, shift: Shift) -> None:
    """Take a shift (all its occurrences) off the roster."""
    _manage(by, shift.roster.desk)
    shift.delete()


@transaction.atomic
def add_override(
    *,
    by,
    roster: Roster,
    person,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
    uid: str | None = None,
) -> Override:
    """``person`` (a desk member) covers ``[starts_at, ends_at)``: during it they are on
    duty instead of whoever the shifts put there."""
    desk = roster.desk
    _manage(by, desk)
    person = _person(desk, person)
    rules.check_interval(starts_at, ends_at)
    require_xml_safe(note=note)
    override = Override(
        roster=roster,
        person=person,
        starts_at=starts_at,
        ends_at=ends_at,
        note=(note or "")[:200],
        created_by=by,
    )
    _save_with_uid(override, uid)
    roster.save(update_fields=["updated_at"])
    return override


@transaction.atomic
def remove_override(*, by, override: Override) -> None:
    _manage(by, override.roster.desk)
    override.delete()


@transaction.atomic
def write_handover_note(
    *, by, roster: Roster, text: str, shift_ending_at: datetime | None = None
) -> HandoverNote:
    """A handover note from one of the desk's people in a writing role (operators too:
    the outgoing officer writes it) or a coordinator."""
    access = access_for(by)
    desk = roster.desk
    if not (access.can_act_for(desk, roles=WRITING_ROLES) or rules.may_manage(access, desk)):
        rules.require_manage(access, desk)  # 404 or 403, as for any roster write
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("text: write what the next officer needs to know."),
                           details={"fields": {"text": ["empty"]}})  # fmt: skip
    require_xml_safe(text=text)
    return HandoverNote.objects.create(
        roster=roster, author=by, text=text[:4000], shift_ending_at=shift_ending_at
    )


@dataclass(frozen=True)
class ImportResult:
    shifts: int
    overrides: int
    removed: int


@transaction.atomic
def import_calendar(*, by, roster: Roster, ics: str | bytes, replace: bool = False) -> ImportResult:
    """Add every event of an iCalendar file to the roster (``replace``: remove the
    roster's shifts and overrides first). All or nothing: one bad event (unreadable,
    a person not on the desk, a refused rule) refuses the whole file with a 400 naming it.
    """
    desk = roster.desk
    _manage(by, desk)
    shifts, overrides = ical.parse_calendar(ics, desk.zone)
    removed = 0
    if replace:
        removed = roster.shifts.all().delete()[0] + roster.overrides.all().delete()[0]
    for number, item in enumerate([*shifts, *overrides], start=1):
        try:
            if isinstance(item, ical.ImportedShift):
                starts_local = datetime.combine(item.first_date, item.start_time)
                add_shift(by=by, roster=roster, person=item.username, starts_local=starts_local,
                          duration_minutes=item.duration_minutes, rrule=item.rrule,
                          until=item.until, uid=item.uid or None)  # fmt: skip
            else:
                add_override(by=by, roster=roster, person=item.username,
                             starts_at=item.starts_at, ends_at=item.ends_at, note=item.note,
                             uid=item.uid or None)  # fmt: skip
        except (InvalidInput, Conflict) as exc:
            raise InvalidInput(
                _("ics: event %(event)s: %(problem)s")
                % {"event": item.uid or number, "problem": exc.message},
                code="invalid_ics",
                details={"uid": item.uid, **exc.details},
            ) from exc
    return ImportResult(shifts=len(shifts), overrides=len(overrides), removed=removed)
