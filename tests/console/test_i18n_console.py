"""The console in the reader's language and the desk's time zone (docs/console.md)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from crisis.services.crises import report_crisis, transition_crisis
from humanitarian.models import AssistanceRequest
from paging.models import PagingPreference

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
