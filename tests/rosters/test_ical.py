"""iCalendar out and in: a round trip keeps every occurrence; bad files are a clear 400."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.errors import InvalidInput
from rosters import ical, services
from rosters.models import Override, Shift
from rosters.selectors import on_duty
from tests.rosters.conftest import bkk

pytestmark = pytest.mark.django_db


def _occurrences(roster, start, end) -> set:
    zone = roster.desk.zone
    return {
        (s.person.username, begins, ends)
        for s in roster.shifts.select_related("person")
        for begins, ends in ical.shift_occurrences(s, zone, start, end)
    }


def test_round_trip_into_another_desks_roster_keeps_every_occurrence(region, roster_a, yangon):
    """Bangkok's calendar imported into the Yangon desk: same instants, same people."""
    services.add_shift(by=region.supervisor_a, roster=roster_a, person=region.operator_a,
                       starts_local=datetime(2026, 3, 2, 8, 0), duration_minutes=12 * 60,
                       rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
                       until=bkk(2026, 3, 27, 8, 0))  # fmt: skip
    services.add_shift(by=region.supervisor_a, roster=roster_a, person=region.supervisor_a,
                       starts_local=datetime(2026, 3, 3, 20, 0), duration_minutes=12 * 60,
                       rrule="FREQ=DAILY;INTERVAL=2")  # fmt: skip
    services.add_override(by=region.supervisor_a, roster=roster_a, person=region.operator_a,
                          starts_at=bkk(2026, 3, 4, 0, 0), ends_at=bkk(2026, 3, 4, 6, 0),
                          note="I cover tonight")  # fmt: skip
    exported = ical.roster_calendar(roster_a, roster_a.shifts.all(), roster_a.overrides.all())
    assert b"TZID=Asia/Bangkok" in exported and b"BEGIN:VTIMEZONE" in exported

    result = services.import_calendar(by=region.supervisor_a, roster=yangon, ics=exported)
    assert (result.shifts, result.overrides) == (2, 1)
    start, end = bkk(2026, 3, 1), bkk(2026, 4, 1)
    theirs = _occurrences(roster_a, start, end)
    assert len(theirs) == 12 + 15
    assert _occurrences(yangon, start, end) == theirs
    # Stored in Yangon's wall clock: 08:00 Bangkok is 07:30 Yangon.
    assert yangon.shifts.get(rrule__contains="BYDAY").start_time.isoformat() == "07:30:00"
    assert yangon.overrides.get().note == "I cover tonight"
    for minute in range(0, 31 * 24 * 60, 60):
        at = start + timedelta(minutes=minute)
        assert on_duty(yangon.desk, at=at).people == on_duty(roster_a.desk, at=at).people, at


def test_an_imported_person_must_be_on_the_desk_and_nothing_is_half_imported(region, roster_a):
    calendar = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//\r\n"
        "BEGIN:VEVENT\r\nUID:1\r\nSUMMARY:op-a\r\nDTSTART:20260302T080000\r\n"
        "DURATION:PT8H\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:2\r\nSUMMARY:op-b\r\nDTSTART:20260302T160000\r\n"
        "DURATION:PT8H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    with pytest.raises(InvalidInput) as refused:
        services.import_calendar(by=region.supervisor_a, roster=roster_a, ics=calendar)
    assert "op-b" in refused.value.message and refused.value.code == "invalid_ics"
    assert not Shift.objects.exists() and not Override.objects.exists()


@pytest.mark.parametrize(
    "body, words",
    [
        ("hello", "BEGIN:VCALENDAR"),
        ("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "no events"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:op-a\r\nEND:VEVENT\r\nEND:VCALENDAR",
         "DTSTART"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:op-a\r\nDTSTART:20260302T080000\r\n"
         "DURATION:PT1H\r\nRRULE:FREQ=DAILY;INTERVAL=0\r\nEND:VEVENT\r\nEND:VCALENDAR", "INTERVAL"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:op-a\r\nDTSTART:20260302T080000\r\n"
         "DURATION:PT1H\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nEND:VCALENDAR", "FREQ"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:op-a\r\nDTSTART:20260302T080000\r\n"
         "DURATION:PT1H\r\nRRULE:FREQ=DAILY\r\nEXDATE:20260303T080000\r\nEND:VEVENT\r\n"
         "END:VCALENDAR", "EXDATE"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:op-a\r\nDTSTART:nonsense\r\n"
         "DURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR", "event 1"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:op-a\r\nDTSTART;TZID=Asia/Tokyo:"
         "20260302T010000\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\nEND:VEVENT\r\n"
         "END:VCALENDAR", "another day"),
    ],
)  # fmt: skip
def test_bad_calendars_are_refused_naming_the_problem(region, roster_a, body, words):
    with pytest.raises(InvalidInput) as refused:
        services.import_calendar(by=region.supervisor_a, roster=roster_a, ics=body)
    assert words in refused.value.message, refused.value.message
    assert not Shift.objects.exists()


@pytest.mark.parametrize(
    "rule, words",
    [
        ("FREQ=FORTNIGHTLY", "FREQ"),
        ("BYDAY=MO", "FREQ"),
        ("FREQ=WEEKLY;BYDAY=XX", "BYDAY"),
        ("FREQ=DAILY;BYMONTHDAY=99", "BYMONTHDAY"),
        ("FREQ=DAILY;BYHOUR=25", "BYHOUR"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31", "never repeats"),
        ("FREQ=DAILY;COUNT=0", "COUNT"),
        ("not a rule at all", "rrule"),
    ],
)
def test_bad_rules_are_refused_naming_the_problem(region, roster_a, rule, words):
    with pytest.raises(InvalidInput) as refused:
        services.add_shift(by=region.supervisor_a, roster=roster_a, person=region.operator_a,
                           starts_local=datetime(2026, 3, 2, 8, 0), duration_minutes=60,
                           rrule=rule)  # fmt: skip
    assert words in refused.value.message and refused.value.details["fields"]["rrule"]
    assert not Shift.objects.exists()
