"""Performance against the protocol on a crisis played at known times: every figure is
computed by hand from the script in ``conftest.play_scripted_crisis``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from review.performance import crisis_performance, desk_performance, duration_text
from tests.review.conftest import acknowledge, play_scripted_crisis, report_and_activate, resolve

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 10, 5, 3, 0, tzinfo=UTC)  # 10:00 in Bangkok, Q4 2026
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _desk(figures, code):
    return next(d for d in figures["desks"] if d["desk"] == code)


def test_scripted_crisis_figures_match_the_hand_computed_ones(region, clock, protocol):
    crisis = play_scripted_crisis(region, clock, T0)
    figures = crisis_performance(crisis, now=NOW)

    assert figures["totals"] == {
        "levels_entered": 2,
        "escalations_taken": 1,  # level 1 expired at T+11
        "time_to_first_ack_seconds": 840.0,  # level 1 entered T+1, B acked T+15
        "messages_unacknowledged": 1,  # RCC never acknowledged the flash
        "tasks": 3,  # focal point for A and B, initial report for A
        "tasks_late": 2,  # B's focal point (T+50 > T+31), A's report (never done)
        "pledges_promised": 2,
        "pledges_delivered": 1,
    }
    level1, level2 = figures["levels"]
    assert (level1["level"], level1["outcome"], level1["timeout_seconds"]) == (1, "expired", 600)
    assert level1["desks"] == ["AAA-DESK", "BBB-DESK"]
    assert level1["entered_at"] == (T0 + timedelta(minutes=1)).isoformat()
    assert level1["acks"] == []
    assert (level2["level"], level2["outcome"], level2["timeout_seconds"]) == (
        2,
        "acknowledged",
        900,
    )
    assert level2["desks"] == ["AAA-DESK", "BBB-DESK", "CCC-DESK", "RCC"]
    assert [(a["desk"], a["seconds"], a["within_deadline"]) for a in level2["acks"]] == [
        ("BBB-DESK", 240.0, True),  # T+11 -> T+15
        ("AAA-DESK", 360.0, True),  # T+11 -> T+17
    ]

    a = _desk(figures, "AAA-DESK")
    assert (a["levels_notified"], a["levels_acknowledged"], a["levels_missed"]) == (2, 1, 1)
    assert a["time_to_acknowledge"] == {
        "count": 1, "mean_seconds": 360.0, "median_seconds": 360.0, "max_seconds": 360.0,
    }  # fmt: skip
    assert (a["tasks"], a["tasks_done"], a["tasks_late"]) == (2, 1, 1)
    assert a["flash_received"] == 0  # the sender does not receive its own message

    b = _desk(figures, "BBB-DESK")
    assert (b["levels_notified"], b["levels_acknowledged"], b["levels_missed"]) == (2, 1, 1)
    assert b["time_to_acknowledge"]["mean_seconds"] == 240.0
    assert (b["flash_received"], b["flash_acknowledged"], b["flash_unacknowledged"]) == (1, 1, 0)
    assert b["flash_time_to_acknowledge"]["mean_seconds"] == 120.0  # T+21 -> T+23
    assert (b["tasks"], b["tasks_done"], b["tasks_late"]) == (1, 1, 1)
    assert (b["pledges_offered"], b["pledges_promised"], b["pledges_delivered"]) == (2, 2, 1)

    c = _desk(figures, "CCC-DESK")
    assert (c["levels_notified"], c["levels_acknowledged"], c["levels_missed"]) == (1, 0, 0)
    rcc = _desk(figures, "RCC")
    assert (rcc["flash_received"], rcc["flash_unacknowledged"]) == (1, 1)

    assert figures["pledge_quantities"] == [
        {"desk": "BBB-DESK", "item": "family_tent", "unit": "piece", "promised": 60,
         "delivered": 38},
    ]  # fmt: skip
    texts = [s["text"] for s in figures["late_steps"]]  # by when they were due
    assert texts == [
        "Level 1 (Affected states) expired unacknowledged after 10 min",
        "BBB-DESK: “Confirm focal point” done 19 min late",
        "AAA-DESK: “Send initial report” not done",
    ]


def test_durations_read_as_people_say_them():
    assert [duration_text(s) for s in (None, 45, 600, 840, 7500, 3 * 86400 + 3600)] == [
        "—", "45 s", "10 min", "14 min", "2 h 05 min", "3 d 1 h",
    ]  # fmt: skip


def _crisis_acked_by_a_after(region, clock, t0, seconds, *, exercise=False):
    crisis = report_and_activate(region, clock, t0, exercise=exercise)
    clock.set(t0 + timedelta(minutes=1, seconds=seconds))
    acknowledge(region, crisis, "a")
    return resolve(region, clock, crisis, t0 + timedelta(hours=1))


def test_desk_figures_per_quarter_leave_exercises_out_unless_asked(region, clock, protocol):
    play_scripted_crisis(region, clock, T0)  # Q4: A acked after 360 s
    _crisis_acked_by_a_after(region, clock, datetime(2026, 8, 10, 2, tzinfo=UTC), 480)  # Q3
    drill = _crisis_acked_by_a_after(
        region, clock, datetime(2026, 11, 2, 2, tzinfo=UTC), 60, exercise=True
    )  # Q4, an exercise

    real = desk_performance(region.desk_a, period="quarter", periods=4, now=NOW)
    assert [p["period"] for p in real["periods"]] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    q3, q4 = real["periods"][2], real["periods"][3]
    assert q3["time_to_acknowledge"]["mean_seconds"] == 480.0
    assert q4["time_to_acknowledge"]["mean_seconds"] == 360.0
    assert drill.pk not in [c["id"] for p in real["periods"] for c in p["crises"]]
    assert (q4["levels_notified"], q4["levels_missed"], q4["tasks"], q4["tasks_late"]) == (
        2, 1, 2, 1,
    )  # fmt: skip
    assert real["trend"] == {"current_mean_seconds": 360.0, "previous_mean_seconds": 480.0,
                             "faster": True, "change_seconds": -120.0}  # fmt: skip
    assert real["trend_text"] == "AAA-DESK acknowledged 2 min faster on average than last quarter."
    # Quarters start at midnight in the desk's zone (Asia/Bangkok, UTC+7).
    assert q4["starts_at"] == "2026-09-30T17:00:00+00:00"

    both = desk_performance(region.desk_a, exercises="include", now=NOW)
    assert both["periods"][-1]["time_to_acknowledge"]["mean_seconds"] == 210.0  # (360 + 60) / 2
    drills = desk_performance(region.desk_a, exercises="only", now=NOW)
    assert drills["periods"][-1]["time_to_acknowledge"]["mean_seconds"] == 60.0
    assert drills["periods"][2]["crises"] == []

    months = desk_performance(region.desk_a, period="month", periods=6, now=NOW)
    assert [p["period"] for p in months["periods"]][-3:] == ["2026-10", "2026-11", "2026-12"]
    assert months["periods"][-3]["time_to_acknowledge"]["mean_seconds"] == 360.0
    assert months["periods"][-2]["crises"] == []  # the November crisis was the drill
