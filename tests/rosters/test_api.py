"""The rosters API: who may read and edit, bad input is a 400 naming the field, times in
the desk's zone, the calendar out and in, and who is on duty."""

from __future__ import annotations

from datetime import datetime

import pytest

from rosters import services
from rosters.models import HandoverNote, Override, Roster, Shift

pytestmark = pytest.mark.django_db


def _shift_body(**extra) -> dict:
    return {"person": "op-a", "starts_local": "2026-03-02T08:00", "duration_minutes": 720,
            "rrule": "FREQ=WEEKLY;BYDAY=MO,WE,FR", **extra}  # fmt: skip


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) >= {"code", "message", "details"}
    return body


def test_a_supervisor_builds_the_roster_and_the_desk_reads_who_is_on_duty(region, api_client):
    api_client.force_authenticate(region.supervisor_a)
    made = api_client.post("/api/v1/desks/AAA-DESK/roster/")
    assert made.status_code == 201
    assert api_client.post("/api/v1/desks/aaa-desk/roster/").status_code == 200  # idempotent
    roster_id = made.json()["id"]
    shift = api_client.post(f"/api/v1/rosters/{roster_id}/shifts/", _shift_body(), format="json")
    assert shift.status_code == 201, shift.content
    assert shift.json()["starts_local"] == "2026-03-02T08:00"
    override = api_client.post(
        f"/api/v1/rosters/{roster_id}/overrides/",
        {"person": "sup-a", "starts_at": "2026-03-04T10:00", "ends_at": "2026-03-04T12:00"},
        format="json",
    )
    assert override.status_code == 201, override.content
    assert override.json()["starts_at"] == "2026-03-04T03:00:00Z"  # typed in Bangkok time

    api_client.force_authenticate(region.operator_a)
    on_duty = api_client.get("/api/v1/desks/AAA-DESK/on-duty/", {"at": "2026-03-02T19:59"})
    body = on_duty.json()
    assert [p["username"] for p in body["people"]] == ["op-a"] and not body["is_fallback"]
    assert body["until"] == "2026-03-02T13:00:00Z"
    assert body["until_local"] == "2026-03-02T20:00:00+07:00"
    later = api_client.get("/api/v1/desks/AAA-DESK/on-duty/", {"at": "2026-03-02T20:01+07:00"})
    assert later.json()["is_fallback"] and later.json()["people"][0]["username"] == "sup-a"
    covered = api_client.get("/api/v1/desks/AAA-DESK/on-duty/", {"at": "2026-03-04T11:00"})
    assert [p["username"] for p in covered.json()["people"]] == ["sup-a"]
    assert not covered.json()["is_fallback"]
    detail = api_client.get(f"/api/v1/rosters/{roster_id}/").json()
    assert len(detail["shifts"]) == 1 and detail["time_zone"] == "Asia/Bangkok"
    listed = api_client.get("/api/v1/rosters/").json()["results"]
    assert [r["desk"] for r in listed] == ["AAA-DESK"]


@pytest.fixture
def roster(region):
    roster, _ = services.open_roster(by=region.supervisor_a, desk=region.desk_a)
    services.add_shift(by=region.supervisor_a, roster=roster, person=region.operator_a,
                       starts_local=datetime(2026, 3, 2, 8, 0), duration_minutes=60)  # fmt: skip
    return roster


def test_an_operator_reads_but_cannot_edit(region, roster, api_client):
    api_client.force_authenticate(region.operator_a)
    assert api_client.get(f"/api/v1/rosters/{roster.pk}/").status_code == 200
    assert api_client.get(f"/api/v1/rosters/{roster.pk}/calendar.ics").status_code == 200
    refused = api_client.post(f"/api/v1/rosters/{roster.pk}/shifts/", _shift_body(), format="json")
    assert _error(refused, 403)["code"] == "roster_read_only"
    shift = roster.shifts.get()
    assert api_client.delete(f"/api/v1/rosters/shifts/{shift.pk}/").status_code == 403
    assert Shift.objects.count() == 1
    # The outgoing officer writes the handover note.
    note = api_client.post(f"/api/v1/rosters/{roster.pk}/handover-notes/",
                           {"text": "Line check with KHM pending.",
                            "shift_ending_at": "2026-03-02T09:00"}, format="json")  # fmt: skip
    assert note.status_code == 201, note.content
    assert HandoverNote.objects.get().shift_ending_at.isoformat() == "2026-03-02T02:00:00+00:00"


def test_another_states_desk_roster_is_404(region, roster, api_client):
    api_client.force_authenticate(region.supervisor_b)
    shift = roster.shifts.get()
    for url in (
        f"/api/v1/rosters/{roster.pk}/",
        f"/api/v1/rosters/{roster.pk}/calendar.ics",
        f"/api/v1/rosters/{roster.pk}/handover-notes/",
        "/api/v1/desks/AAA-DESK/on-duty/",
    ):
        _error(api_client.get(url), 404)  # fmt: skip
    for url, body in ((f"/api/v1/rosters/{roster.pk}/shifts/", _shift_body()),
                      (f"/api/v1/rosters/{roster.pk}/import/", {"ics": "x"}),
                      ("/api/v1/desks/AAA-DESK/roster/", {})):  # fmt: skip
        _error(api_client.post(url, body, format="json"), 404)
    _error(api_client.delete(f"/api/v1/rosters/shifts/{shift.pk}/"), 404)
    assert api_client.get("/api/v1/rosters/").json()["results"] == []
    assert Shift.objects.count() == 1


def test_a_coordinator_manages_any_desk_and_the_auditor_only_reads(region, roster, api_client):
    api_client.force_authenticate(region.coordinator)
    made = api_client.post(f"/api/v1/rosters/{roster.pk}/shifts/", _shift_body(), format="json")
    assert made.status_code == 201
    api_client.force_authenticate(region.auditor)
    assert api_client.get(f"/api/v1/rosters/{roster.pk}/").status_code == 200
    _error(api_client.post(f"/api/v1/rosters/{roster.pk}/shifts/", _shift_body(), format="json"),
           403)  # fmt: skip


@pytest.mark.parametrize(
    "change, field",
    [
        ({"person": "op-b"}, "person"),  # another desk's operator
        ({"person": "audit"}, "person"),  # an auditor is on no roster
        ({"person": "nobody"}, "person"),
        ({"rrule": "FREQ=DAILY;INTERVAL=0"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule"),
        ({"starts_local": "2026-13-45T99:99"}, "starts_local"),
        ({"starts_local": "tomorrow"}, "starts_local"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 10**30}, "duration_minutes"),
        ({"until": "nope"}, "until"),
        ({"until": "2026-01-01T00:00"}, "until"),
        ({"person": None}, "person"),
    ],
)
def test_bad_shift_input_is_a_400_naming_the_field(region, roster, api_client, change, field):
    api_client.force_authenticate(region.supervisor_a)
    response = api_client.post(f"/api/v1/rosters/{roster.pk}/shifts/", _shift_body(**change),
                               format="json")  # fmt: skip
    body = _error(response, 400)
    assert field in body["message"] and field in body["details"]["fields"], body
    assert Shift.objects.count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"person": "op-a", "starts_at": "2026-03-04T12:00", "ends_at": "2026-03-04T10:00"},
         "ends_at"),
        ({"person": "op-a", "starts_at": "x", "ends_at": "2026-03-04T10:00"}, "starts_at"),
        ({"person": "op-b", "starts_at": "2026-03-04T10:00", "ends_at": "2026-03-04T12:00"},
         "person"),
        ({"person": "op-a", "starts_at": "2026-03-04T10:00", "ends_at": "2026-06-04T12:00"},
         "ends_at"),
        ({"person": "op-a", "starts_at": "2026-03-04T10:00", "ends_at": "2026-03-04T12:00",
          "note": "bad\x00"}, "note"),
    ],
)  # fmt: skip
def test_bad_override_input_is_a_400_naming_the_field(region, roster, api_client, body, field):
    api_client.force_authenticate(region.supervisor_a)
    response = api_client.post(f"/api/v1/rosters/{roster.pk}/overrides/", body, format="json")
    assert field in _error(response, 400)["message"]
    assert not Override.objects.exists()


def test_calendar_export_and_import_over_http(region, roster, api_client):
    api_client.force_authenticate(region.supervisor_a)
    exported = api_client.get(f"/api/v1/rosters/{roster.pk}/calendar.ics")
    assert exported["Content-Type"].startswith("text/calendar")
    assert b"SUMMARY:op-a" in exported.content and b"TZID=Asia/Bangkok" in exported.content
    replaced = api_client.post(f"/api/v1/rosters/{roster.pk}/import/?replace=true",
                               data=exported.content, content_type="text/calendar")  # fmt: skip
    assert replaced.json() == {"shifts": 1, "overrides": 0, "removed": 1}, replaced.content
    bad = api_client.post(f"/api/v1/rosters/{roster.pk}/import/", {"ics": "BEGIN:VCALENDAR\nX"},
                          format="json")  # fmt: skip
    assert _error(bad, 400)["code"] == "invalid_ics"
    assert _error(api_client.post(f"/api/v1/rosters/{roster.pk}/import/", {}, format="json"),
                  400)["details"]["fields"]["ics"]  # fmt: skip
    assert Shift.objects.filter(roster=roster).count() == 1


def test_a_bad_calendar_is_refused_in_the_readers_language(region, roster, api_client):
    api_client.force_authenticate(region.supervisor_a)
    url = f"/api/v1/rosters/{roster.pk}/import/"
    not_ical = api_client.post(url, {"ics": "hello"}, format="json", HTTP_ACCEPT_LANGUAGE="th")
    body = _error(not_ical, 400)
    assert body["code"] == "invalid_ics"
    assert body["message"] == "ics: ไม่ใช่ไฟล์ iCalendar (ต้องขึ้นต้นด้วย BEGIN:VCALENDAR)"
    no_summary = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x1\r\n"
        "DTSTART:20260302T080000Z\r\nDTEND:20260302T200000Z\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    refused = api_client.post(url, {"ics": no_summary}, format="json", HTTP_ACCEPT_LANGUAGE="vi")
    assert _error(refused, 400)["message"] == (
        "ics: sự kiện 1 (x1): SUMMARY phải ghi người trực (tên đăng nhập của họ)."
    )
    assert _error(api_client.post(url, {"ics": "hello"}, format="json"), 400)["message"] == (
        "ics: not an iCalendar file (it must start with BEGIN:VCALENDAR)."
    )


def test_on_duty_rejects_a_bad_time_and_unknown_desks(region, roster, api_client):
    api_client.force_authenticate(region.operator_a)
    assert "at" in _error(api_client.get("/api/v1/desks/AAA-DESK/on-duty/", {"at": "x"}),
                          400)["message"]  # fmt: skip
    _error(api_client.get("/api/v1/desks/NOPE/on-duty/"), 404)
    _error(api_client.get("/api/v1/rosters/99999999999999999999/"), 404)
    assert Roster.objects.count() == 1
