"""Pages, codes and the ack page speak the paged person's language (their preference)."""

from __future__ import annotations

import re

import pytest

from deadlines.services import fire_due_deadlines
from paging.models import PagingPreference
from paging.services import page_desk
from tests.paging.conftest import verified_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def fire(django_capture_on_commit_callbacks):
    def fire():
        with django_capture_on_commit_callbacks(execute=True):
            return fire_due_deadlines()

    return fire


def test_an_email_page_to_a_thai_reader_is_in_thai_and_an_english_one_in_english(
    region, smtp, fire, client
):
    verified_email(region.operator_a)
    verified_email(region.supervisor_a)
    PagingPreference.objects.create(user=region.operator_a, language="th")
    page_desk(
        desk=region.desk_a,
        urgency="flash",
        kind="test",
        subject_key="t:lang",
        title="Test page",
        body="Something needs you.",
        link_path="/crises/1/",
    )
    fire()
    thai = smtp.inbox.to("op-a@example.org")[0]
    english = smtp.inbox.to("sup-a@example.org")[0]
    assert thai.subject == "[ด่วนที่สุด] Test page"
    assert "รับทราบ (ในนามของหน่วย AAA-DESK ในฐานะ op-a):" in thai.body
    assert "คุณได้รับข้อความนี้เพราะคุณเข้าเวรอยู่ที่" in thai.body
    assert "You receive this because" not in thai.body
    # Times stay in the desk's zone with UTC beside, whatever the language.
    assert "Asia/Bangkok" in thai.body and "UTC" in thai.body
    assert english.subject == "[FLASH] Test page"
    assert "Acknowledge (for desk AAA-DESK, as sup-a):" in english.body

    # The ack page behind the Thai reader's link is in Thai too, whatever the browser says.
    path = re.search(r"https?://[^/\s]+(/ack/[^/\s]+/)", thai.body).group(1)
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="th">' in page and "รับทราบในนามของ AAA-DESK" in page
