"""The console in the reader's language and the desk's time zone (docs/console.md)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from crisis.models import CrisisTask
from crisis.services.crises import report_crisis, transition_crisis
from crisis.services.tasks import assign_task
from humanitarian.models import AssessmentType, AssetKind, AssistanceRequest, ImportJob
from paging.models import PagingPreference
from tests.crisis.crisis_helpers import make_protocol
from tests.crisis.factories import activate, report
from tests.humanitarian.conftest import HXL_FILE, make_asset

pytestmark = pytest.mark.django_db


def _html_lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page).group(1)


def _switch(client, code: str, next_url: str = "/"):
    return client.post(reverse("console:switch-language"), {"language": code, "next": next_url})


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("th", ["แดชบอร์ด", "รายงานวิกฤต", "วิกฤตที่ยังเปิดอยู่", "ออกจากระบบ"]),
        ("vi", ["Bảng tổng quan", "Báo cáo khủng hoảng", "Khủng hoảng đang mở", "Đăng xuất"]),
        ("id", ["Dasbor", "Laporkan krisis", "Krisis terbuka", "Keluar"]),
    ],
)
def test_the_dashboard_in_thai_vietnamese_and_indonesian(client, region, code, words):
    report_crisis(
        by=region.operator_a, desk=region.desk_a, category="flood", title="Flood", severity=3,
        affected_state_codes=["AAA"],
    )  # fmt: skip
    client.force_login(region.operator_a)
    english = client.get(reverse("console:dashboard")).content.decode()
    assert _html_lang(english) == "en" and "Open crises" in english
    assert _switch(client, code).status_code == 302
    page = client.get(reverse("console:dashboard")).content.decode()
    assert _html_lang(page) == code
    for word in words:
        assert word in page
    assert "Open crises" not in page and "Log out" not in page
    # The words console.js writes come translated too (a JSON script element, no inline JS).
    strings = re.search(
        r'<script id="console-strings" type="application/json">(.*?)</script>', page, re.S
    ).group(1)
    assert json.loads(strings)["alertsOn"] != "Alerts: on"
    # Choice labels: the crisis's status and severity in words of the language.
    assert {"th": "รายงานแล้ว", "vi": "Đã báo cáo", "id": "Dilaporkan"}[code] in page


def test_the_language_is_remembered_for_the_person_across_sessions(client, region):
    client.force_login(region.operator_a)
    _switch(client, "vi", "/notifications/")
    assert PagingPreference.objects.get(user=region.operator_a).language == "vi"
    client.logout()
    client.cookies.clear()
    # Another browser that prefers English: the person's choice wins once they log in.
    client.force_login(region.operator_a)
    page = client.get(reverse("console:notifications"), HTTP_ACCEPT_LANGUAGE="en").content
    page = page.decode()
    assert _html_lang(page) == "vi" and "<h1>Thông báo</h1>" in page
    # Someone else on the same browser is not affected by it.
    client.logout()
    client.cookies.clear()
    client.force_login(region.operator_b)
    page = client.get(reverse("console:notifications"), HTTP_ACCEPT_LANGUAGE="en").content
    assert _html_lang(page.decode()) == "en"


def test_before_log_in_the_browser_language_and_the_switch_apply(client):
    page = client.get(reverse("console:login"), HTTP_ACCEPT_LANGUAGE="th").content.decode()
    assert _html_lang(page) == "th" and "เข้าสู่ระบบ" in page and "ชื่อผู้ใช้" in page
    _switch(client, "id", reverse("console:login"))
    page = client.get(reverse("console:login"), HTTP_ACCEPT_LANGUAGE="th").content.decode()
    assert _html_lang(page) == "id" and "Kata sandi" in page


def test_an_unknown_language_is_refused_with_a_message(client, region):
    client.force_login(region.operator_a)
    response = _switch(client, "xx")
    assert response.status_code == 302
    assert not PagingPreference.objects.filter(user=region.operator_a).exists()


def test_a_service_refusal_is_flashed_in_the_readers_language(client, region):
    crisis = report_crisis(
        by=region.operator_a, desk=region.desk_a, category="flood", title="Flood", severity=3,
        affected_state_codes=["AAA"],
    )  # fmt: skip
    client.force_login(region.operator_a)  # an operator may not activate: supervisors do
    _switch(client, "th")
    response = client.post(
        reverse("console:transition-crisis", args=[crisis.pk]), {"to_status": "active"},
        follow=True,
    )  # fmt: skip
    page = response.content.decode()
    assert "ผู้ที่จะเปิดใช้งานวิกฤตได้ต้องเป็น" in page


def test_a_time_typed_on_a_bangkok_desk_is_stored_as_the_right_utc_instant(client, region):
    crisis = report_crisis(
        by=region.operator_a, desk=region.desk_a, category="flood", title="Flood", severity=3,
        affected_state_codes=["AAA"],
    )  # fmt: skip
    transition_crisis(by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="active")
    assert region.desk_a.time_zone == "Asia/Bangkok"
    client.force_login(region.operator_a)
    board = client.get(reverse("console:aid-board", args=[crisis.pk])).content.decode()
    # The field says whose clock it reads.
    assert "your desk&#x27;s zone, Asia/Bangkok; it is stored in UTC" in board
    response = client.post(
        reverse("console:aid-new-request", args=[crisis.pk]),
        {
            "sector": "shelter",
            "item": "family_tent",
            "quantity": "10",
            "needed_by": "2026-12-05T14:30",  # a datetime-local input, Bangkok time
            "priority": "high",
            "location": "",
        },
    )
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert response.status_code == 302 and said == ["Request opened."], said
    stored = AssistanceRequest.objects.get(crisis=crisis)
    assert stored.needed_by == datetime(2026, 12, 5, 7, 30, tzinfo=UTC)
    # Shown back in the desk's zone, UTC beside it.
    board = client.get(reverse("console:aid-board", args=[crisis.pk])).content.decode()
    assert "2026-12-05 14:30 +07 (Asia/Bangkok) · 07:30 UTC" in board


def test_durations_are_words_not_seconds():
    from core.templatetags.console import format_duration

    assert [format_duration(s) for s in (45, 600, 3600, 5400, 90000, 172800)] == [
        "45 s", "10 min", "1 h", "1 h 30 min", "1 day 1 h", "2 days",
    ]  # fmt: skip


# --- words people read: choice labels, an upload's problems, a task's assignee -------------


def test_the_standby_register_names_asset_kinds_in_thai(client, region):
    make_asset(region.state_a, region.desk_a, "A USAR heavy", kind=AssetKind.SAR_TEAM)
    make_asset(region.state_a, region.desk_a, "A field hospital", item="field_hospital",
               sector="health", unit="piece", kind=AssetKind.MEDICAL_TEAM)  # fmt: skip
    client.force_login(region.operator_a)
    english = client.get(reverse("console:standby")).content.decode()
    assert "Search and rescue team" in english and "Medical team" in english
    _switch(client, "th")
    page = client.get(reverse("console:standby")).content.decode()
    # In the register's table and in the new asset form's choices alike.
    assert page.count("ทีมค้นหาและกู้ภัย") >= 2 and "ทีมแพทย์" in page
    assert "Search and rescue team" not in page and "Medical team" not in page


def test_assessment_types_read_in_vietnamese():
    from django.utils import translation

    with translation.override("vi"):
        labels = {str(label) for _value, label in AssessmentType.choices}
    assert "Đánh giá cơ sở (theo đơn vị hành chính)" in labels
    assert not labels & {"Baseline (admin-area) assessment", "Site assessment", "Other"}


def _crisis_for_the_board(region):
    crisis = report_crisis(
        by=region.operator_a, desk=region.desk_a, category="flood", title="Flood", severity=3,
        affected_state_codes=["AAA"],
    )  # fmt: skip
    transition_crisis(by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="active")
    return crisis


def test_a_bad_upload_through_the_console_reads_in_the_readers_language(client, region):
    from django.core.files.uploadedfile import SimpleUploadedFile

    crisis = _crisis_for_the_board(region)
    bad = HXL_FILE.replace("2025-11-20,1,site,800", "2025-11-20,1,site,eight hundred")
    client.force_login(region.operator_a)
    _switch(client, "th")
    response = client.post(
        reverse("console:aid-import", args=[crisis.pk]),
        {"file": SimpleUploadedFile("dtm.csv", bad.encode(), "text/csv")},
    )
    assert response.status_code == 302
    board = client.get(response["Location"]).content.decode()
    problem = re.search(r'<table id="import-errors">.*?</table>', board, re.S).group(0)
    assert "&#x27;eight hundred&#x27; ไม่ใช่จำนวนเต็มตั้งแต่ 0 ขึ้นไป" in problem
    assert "is not a whole number" not in problem
    # The job keeps the problem's words, not one language's sentence: read later by
    # someone in Vietnamese (and over the API in English), it speaks their language.
    job = ImportJob.objects.get()
    assert job.errors[0]["message"] == "'eight hundred' is not a whole number of 0 or more"
    _switch(client, "vi")
    board = client.get(response["Location"]).content.decode()
    assert "&#x27;eight hundred&#x27; không phải số nguyên từ 0 trở lên" in board
    # A file that is not text at all is refused at the door, in Thai.
    _switch(client, "th")
    latin = SimpleUploadedFile("dtm.csv", "Pa\xefs,\xe9\n".encode("latin-1"), "text/csv")
    response = client.post(reverse("console:aid-import", args=[crisis.pk]), {"file": latin})
    said = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "ไฟล์ไม่ใช่ข้อความ UTF-8" in said and "not UTF-8" not in said


def test_the_dashboard_says_who_each_open_task_is_assigned_to(client, region):
    make_protocol("maritime")
    crisis = activate(region, report(region))
    tasks = list(CrisisTask.objects.filter(crisis=crisis, desk=region.desk_a))
    assert len(tasks) >= 2
    given = tasks[0]
    assign_task(by=region.supervisor_a, task=given, assignee_id=region.operator_a.pk)
    client.force_login(region.operator_a)

    def said_of_each_task():
        page = client.get(reverse("console:dashboard")).content.decode()
        listed = re.search(r'<ul id="open-tasks">(.*?)</ul>', page, re.S).group(1)
        return {
            title: said
            for title, said in re.findall(
                r"</a>.*? ([^<>—]+?) — .*?<span class=\"muted\" data-assignee>(.*?)</span>",
                listed,
                re.S,
            )
        }

    said = said_of_each_task()
    assert said[given.title] == f"assigned to {region.operator_a.get_username()}"
    assert {said[t.title] for t in tasks[1:]} == {"assigned to nobody"}
    _switch(client, "th")
    said = said_of_each_task()
    assert said[given.title] == f"มอบหมายให้ {region.operator_a.get_username()}"
    assert {said[t.title] for t in tasks[1:]} == {"ยังไม่ได้มอบหมายให้ใคร"}
