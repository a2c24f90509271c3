"""Rosters as iCalendar (RFC 5545): export, import, and the expansion of a shift's rule.

One definition of a shift as a ``VEVENT`` serves all three: the calendar a desk exports is
built by :func:`shift_event`, and :func:`shift_occurrences` expands that same event with
``recurring-ical-events``, so what a calendar client shows is what ``on_duty`` answers.

- A shift is ``DTSTART;TZID=<desk zone>`` (wall-clock), ``DURATION``, an optional
  ``RRULE`` (its ``UNTIL`` in UTC), ``SUMMARY`` = the person's username (as Grafana OnCall
  names people in its iCal schedules) and ``X-ROSTER-KIND:SHIFT``.
- An override is ``DTSTART``/``DTEND`` in UTC and ``X-ROSTER-KIND:OVERRIDE``.
- An imported event without ``X-ROSTER-KIND`` is a shift. Its start is moved into the
  desk's zone (same instant); a rule that names days (BYDAY, BYMONTHDAY …) is refused if
  that move changes the start's date, since the days would then mean other days.
  ``EXDATE``, ``RDATE``, ``EXRULE`` and ``RECURRENCE-ID`` are refused: use overrides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from django.utils.translation import gettext as _

from core.errors import InvalidInput
from rosters import rules

PRODID = "-//crisis-hotline//rosters//EN"
KIND = "X-ROSTER-KIND"
MAX_EVENTS = 500

_UNSUPPORTED = ("EXDATE", "RDATE", "EXRULE", "RECURRENCE-ID")
_DAY_PARTS = ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS")


def shift_start(shift, zone: ZoneInfo) -> datetime:
    """The first shift's start, aware, in the desk's zone."""
    return datetime.combine(shift.first_date, shift.start_time, tzinfo=zone)


def _rule(rrule: str, until: datetime | None) -> icalendar.vRecur:
    parts = icalendar.vRecur.from_ical(rrule)
    if until is not None:
        parts["UNTIL"] = [until.astimezone(UTC)]
    return parts


def shift_event(shift, zone: ZoneInfo) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", shift.uid)
    event.add("summary", shift.person.get_username())
    event.add("dtstart", shift_start(shift, zone))
    event.add("duration", timedelta(minutes=shift.duration_minutes))
    if shift.rrule:
        event.add("rrule", _rule(shift.rrule, shift.until))
    event.add(KIND, "SHIFT")
    return event


def override_event(override) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", override.uid)
    event.add("summary", override.person.get_username())
    event.add("dtstart", override.starts_at.astimezone(UTC))
    event.add("dtend", override.ends_at.astimezone(UTC))
    if override.note:
        event.add("description", override.note)
    event.add(KIND, "OVERRIDE")
    return event


def roster_calendar(roster, shifts, overrides) -> bytes:
    """The roster as an iCalendar file (with the VTIMEZONE of the desk's zone)."""
    zone = roster.desk.zone
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Duty roster {roster.desk.code}")
    calendar.add("x-wr-timezone", roster.desk.time_zone)
    for shift in shifts:
        calendar.add_component(shift_event(shift, zone))
    for override in overrides:
        calendar.add_component(override_event(override))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def shift_occurrences(
    shift, zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The shift's occurrences overlapping ``[start, end)``, as aware (start, end) pairs.

    Bounded: the expansion looks back one shift length and stops at ``end``.
    """
    length = timedelta(minutes=shift.duration_minutes)
    if not shift.rrule:
        first = shift_start(shift, zone)
        return [(first, first + length)] if first < end and first + length > start else []
    calendar = icalendar.Calendar()
    calendar.add_component(shift_event(shift, zone))
    found = []
    for event in recurring_ical_events.of(calendar).between(start - length, end):
        begins = event["DTSTART"].dt
        if begins + length > start and begins < end:
            found.append((begins, begins + length))
    return sorted(found)


def check_rule_repeats(rrule: str, until: datetime | None, first: datetime) -> None:
    """A rule that never repeats within two years is refused (and its expansion would
    search to year 9999 on every read)."""
    if not rrule:
        return
    event = icalendar.Event()
    event.add("uid", "check")
    event.add("dtstart", first)
    event.add("duration", timedelta(minutes=1))
    event.add("rrule", _rule(rrule, until))
    calendar = icalendar.Calendar()
    calendar.add_component(event)
    try:
        found = recurring_ical_events.of(calendar).between(first, first + timedelta(days=731))
    except (ValueError, TypeError, recurring_ical_events.InvalidCalendar) as exc:
        raise rules._bad_rule(
            _("the rule cannot be expanded (%(problem)s)") % {"problem": exc}
        ) from exc
    if (len(found) < 2 and until is None) or not found:
        raise rules._bad_rule(_("the rule never repeats within two years of the first shift"))


# --- import -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedShift:
    uid: str
    username: str
    first_date: date
    start_time: time
    duration_minutes: int
    rrule: str
    until: datetime | None


@dataclass(frozen=True)
class ImportedOverride:
    uid: str
    username: str
    starts_at: datetime
    ends_at: datetime
    note: str


def _refuse(problem: str, *, event: int | None = None, uid: str = "") -> InvalidInput:
    """``problem``: what is wrong, already in the reader's language (``gettext``)."""
    if event is None:
        said = problem
    elif uid:
        said = _("event %(event)s (%(uid)s): %(problem)s") % {
            "event": event,
            "uid": uid,
            "problem": problem,
        }
    else:
        said = _("event %(event)s: %(problem)s") % {"event": event, "problem": problem}
    details = {"fields": {"ics": [said]}}
    if event is not None:
        details.update(event=event, uid=uid)
    return InvalidInput(
        _("ics: %(problem)s.") % {"problem": said}, code="invalid_ics", details=details
    )


def parse_calendar(
    data: str | bytes, zone: ZoneInfo
) -> tuple[list[ImportedShift], list[ImportedOverride]]:
    """Read an iCalendar file into shifts (wall-clock in ``zone``) and overrides (UTC).

    Raises InvalidInput (400 ``invalid_ics``) naming the event and the problem; nothing
    is half-read: either every event is understood or none is returned.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse(_("the file is not UTF-8 text")) from None
    if "\x00" in data:
        raise _refuse(_("the file contains a NUL character"))
    if not data.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        raise _refuse(_("not an iCalendar file (it must start with BEGIN:VCALENDAR)"))
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise _refuse(_("not a readable iCalendar file (%(problem)s)") % {"problem": exc}) from exc
    events = [e for cal in calendars for e in cal.walk("VEVENT")]
    if not events:
        raise _refuse(_("the calendar has no events (VEVENT)"))
    if len(events) > MAX_EVENTS:
        raise _refuse(_("more than %(n)s events") % {"n": MAX_EVENTS})
    shifts, overrides = [], []
    for number, event in enumerate(events, start=1):
        uid = str(event.get("UID", "")).strip()[:255]
        try:
            parsed = _parse_event(event, zone, uid)
        except InvalidInput as exc:
            raise _refuse(exc.message.removeprefix("rrule: "), event=number, uid=uid) from exc
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            raise _refuse(
                _("cannot be read (%(problem)s)") % {"problem": exc}, event=number, uid=uid
            ) from exc
        (overrides if isinstance(parsed, ImportedOverride) else shifts).append(parsed)
    return shifts, overrides


def _when(event, name: str):
    prop = event.get(name)
    if prop is None:
        return None
    if isinstance(prop, list):
        raise InvalidInput(_("more than one %(property)s") % {"property": name})
    return prop.dt


def _parse_event(event, zone: ZoneInfo, uid: str):
    if getattr(event, "errors", None):
        prop, problem = event.errors[0]
        raise InvalidInput(
            _("%(property)s is malformed (%(problem)s)") % {"property": prop, "problem": problem}
        )
    for name in _UNSUPPORTED:
        if name in event:
            raise InvalidInput(
                _("%(property)s is not supported (add an override instead)") % {"property": name}
            )
    username = str(event.get("SUMMARY", "")).strip()
    if not username:
        raise InvalidInput(_("SUMMARY must name the person on duty (their username)"))
    start = _when(event, "DTSTART")
    if start is None:
        raise InvalidInput(_("DTSTART is missing"))
    end = _when(event, "DTEND")
    if end is None and "DURATION" in event:
        end = start + event["DURATION"].dt
    if end is None:
        raise InvalidInput(_("DTEND or DURATION is missing"))
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise InvalidInput(_("DTSTART and DTEND must both be dates or both be date-times"))
    if not isinstance(start, datetime):  # all-day: midnight to midnight in the desk's zone
        start = datetime.combine(start, time(0), tzinfo=zone)
        end = datetime.combine(end, time(0), tzinfo=zone)
    if start.tzinfo is None:  # floating: the desk's wall clock
        start, end = start.replace(tzinfo=zone), end.replace(tzinfo=zone)
    if end.tzinfo is None:
        end = end.replace(tzinfo=start.tzinfo)
    if end <= start:
        raise InvalidInput(_("it ends before it starts"))
    rule_prop = event.get("RRULE")
    if isinstance(rule_prop, list):
        raise InvalidInput(_("more than one RRULE"))
    rrule, until = rules.normalize_rrule(rule_prop.to_ical().decode() if rule_prop else "")
    note = str(event.get("DESCRIPTION", "")).strip()[:200]
    if str(event.get(KIND, "SHIFT")).strip().upper() == "OVERRIDE":
        if rrule:
            raise InvalidInput(_("an override does not repeat (no RRULE)"))
        rules.check_interval(start, end)
        return ImportedOverride(uid, username, start.astimezone(UTC), end.astimezone(UTC), note)
    minutes = round((end - start).total_seconds() / 60)
    rules.check_duration(minutes)
    local = start.astimezone(zone)
    if rrule and any(p in rrule for p in _DAY_PARTS) and local.date() != start.date():
        raise InvalidInput(
            _(
                "it starts on %(start)s in its own zone, which is another day in the desk's "
                "zone (%(zone)s), so its rule's days would mean other days; define it in the "
                "desk's zone"
            )
            % {"start": f"{start:%Y-%m-%d %H:%M}", "zone": zone.key}
        )
    return ImportedShift(
        uid=uid,
        username=username,
        first_date=local.date(),
        start_time=local.time().replace(tzinfo=None),
        duration_minutes=minutes,
        rrule=rrule,
        until=until,
    )
