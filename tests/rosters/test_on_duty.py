"""``rosters.selectors.on_duty``: the one answer to who is on duty, in the desk's zone."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from rosters import services
from rosters.selectors import on_duty
from tests.rosters.conftest import bkk, ygn

pytestmark = pytest.mark.django_db

MIN = timedelta(minutes=1)


def _names(answer) -> list[str]:
    return [u.username for u in answer.people]


def test_a_weekly_rule_puts_the_right_people_on_the_right_days_for_a_month(region, roster_a):
    """Mon/Wed/Fri day shift (08:00-20:00 Bangkok) for op-a, Tue/Thu for op-a2, all March."""
    services.add_shift(by=region.supervisor_a, roster=roster_a, person=region.operator_a,
                       starts_local=datetime(2026, 3, 2, 8, 0), duration_minutes=12 * 60,
                       rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR")  # fmt: skip
    services.add_shift(by=region.supervisor_a, roster=roster_a, person=region.operator_a2,
                       starts_local=datetime(2026, 3, 3, 8, 0), duration_minutes=12 * 60,
                       rrule="FREQ=WEEKLY;BYDAY=TU,TH")  # fmt: skip
    for day in range(2, 32):
        noon = bkk(2026, 3, day, 12, 0)
        answer = on_duty(region.desk_a, at=noon)
        expected = {0: ["op-a"], 2: ["op-a"], 4: ["op-a"], 1: ["op-a2"], 3: ["op-a2"]}.get(
            noon.weekday(), ["sup-a"]
        )
        assert _names(answer) == expected, (noon, _names(answer))
        assert answer.is_fallback == (noon.weekday() >= 5)
        # Night (22:00 Bangkok = 15:00 UTC): nobody on shift, the supervisors.
        assert on_duty(region.desk_a, at=bkk(2026, 3, day, 22, 0)).is_fallback


def test_the_desk_zone_offset_is_respected_bangkok_and_yangon(region, roster_a, yangon):
    """08:00 local is 01:00 UTC in Bangkok and 01:30 UTC in Yangon."""
    for roster in (roster_a, yangon):
        services.add_shift(by=region.supervisor_a, roster=roster, person=region.operator_a,
                           starts_local=datetime(2026, 3, 2, 8, 0), duration_minutes=60,
                           rrule="FREQ=DAILY")  # fmt: skip
    utc = datetime.fromisoformat
    assert _names(on_duty(region.desk_a, at=utc("2026-03-10T01:00Z"))) == ["op-a"]
    assert on_duty(region.desk_a, at=utc("2026-03-10T00:59Z")).is_fallback
    assert on_duty(region.desk_a, at=utc("2026-03-10T02:00Z")).is_fallback
    ygn_desk = yangon.desk
    assert on_duty(ygn_desk, at=utc("2026-03-10T01:15Z")).is_fallback
    assert _names(on_duty(ygn_desk, at=utc("2026-03-10T01:30Z"))) == ["op-a"]
    assert _names(on_duty(ygn_desk, at=ygn(2026, 3, 31, 8, 59))) == ["op-a"]
    assert on_duty(ygn_desk, at=utc("2026-03-10T02:30Z")).is_fallback


def test_a_shift_boundary_changes_the_answer_and_until_says_when(region, roster_a):
    for person, hour in ((region.operator_a, 8), (region.operator_a2, 20)):
        services.add_shift(by=region.supervisor_a, roster=roster_a, person=person,
                           starts_local=datetime(2026, 3, 1, hour, 0), duration_minutes=12 * 60,
                           rrule="FREQ=DAILY")  # fmt: skip
    handover = bkk(2026, 3, 15, 20, 0)
    before, after = (
        on_duty(region.desk_a, at=handover - MIN),
        on_duty(region.desk_a, at=handover + MIN),
    )
    assert _names(before) == ["op-a"] and _names(after) == ["op-a2"]
    assert before.until == handover  # when to page the next officer
    assert after.until == bkk(2026, 3, 16, 8, 0)
    assert _names(on_duty(region.desk_a, at=handover)) == ["op-a2"]  # half-open intervals


def test_an_override_wins_over_the_shift_it_covers(region, roster_a):
    services.add_shift(by=region.supervisor_a, roster=roster_a, person=region.operator_a,
                       starts_local=datetime(2026, 3, 1, 0, 0), duration_minutes=24 * 60,
                       rrule="FREQ=DAILY")  # fmt: skip
    services.add_override(by=region.supervisor_a, roster=roster_a, person=region.operator_a2,
                          starts_at=bkk(2026, 3, 10, 20, 0), ends_at=bkk(2026, 3, 11, 8, 0),
                          note="I cover tonight")  # fmt: skip
    assert _names(on_duty(region.desk_a, at=bkk(2026, 3, 10, 19, 59))) == ["op-a"]
    tonight = on_duty(region.desk_a, at=bkk(2026, 3, 10, 23, 0))
    assert _names(tonight) == ["op-a2"] and not tonight.is_fallback
    assert tonight.until == bkk(2026, 3, 11, 8, 0)
    assert _names(on_duty(region.desk_a, at=bkk(2026, 3, 11, 8, 0))) == ["op-a"]


def test_nobody_on_shift_falls_back_to_the_supervisors_and_says_so(region, roster_a):
    answer = on_duty(region.desk_a, at=bkk(2026, 3, 10, 12, 0))
    assert _names(answer) == ["sup-a"] and answer.is_fallback and answer.until is None
    services.add_shift(by=region.supervisor_a, roster=roster_a, person=region.operator_a,
                       starts_local=datetime(2026, 3, 10, 14, 0), duration_minutes=60)  # fmt: skip
    answer = on_duty(region.desk_a, at=bkk(2026, 3, 10, 12, 0))
    assert answer.is_fallback and answer.until == bkk(2026, 3, 10, 14, 0)
    assert on_duty(region.desk_b).is_fallback  # a desk without a roster


def test_someone_who_left_the_desk_is_no_longer_on_duty(region, roster_a):
    services.add_shift(by=region.supervisor_a, roster=roster_a, person=region.operator_a2,
                       starts_local=datetime(2026, 3, 1, 0, 0), duration_minutes=24 * 60,
                       rrule="FREQ=DAILY")  # fmt: skip
    at = bkk(2026, 3, 5, 12, 0)
    assert _names(on_duty(region.desk_a, at=at)) == ["op-a2"]
    region.operator_a2.desk_memberships.all().delete()
    assert on_duty(region.desk_a, at=at).is_fallback


def test_until_ends_a_rule(region, roster_a):
    services.add_shift(by=region.supervisor_a, roster=roster_a, person=region.operator_a,
                       starts_local=datetime(2026, 3, 1, 8, 0), duration_minutes=60,
                       rrule="FREQ=DAILY;UNTIL=20260305T235959Z")  # fmt: skip
    assert _names(on_duty(region.desk_a, at=bkk(2026, 3, 5, 8, 30))) == ["op-a"]
    assert on_duty(region.desk_a, at=bkk(2026, 3, 6, 8, 30)).is_fallback


def test_on_duty_reads_a_bounded_number_of_queries(region, roster_a, django_assert_max_num_queries):
    for day in range(1, 8):
        services.add_shift(by=region.supervisor_a, roster=roster_a, person=region.operator_a,
                           starts_local=datetime(2026, 3, day, 8, 0), duration_minutes=60,
                           rrule="FREQ=WEEKLY")  # fmt: skip
    with django_assert_max_num_queries(4):
        on_duty(region.desk_a, at=bkk(2026, 3, 20, 8, 30))
