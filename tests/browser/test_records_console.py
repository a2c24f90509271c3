"""The crisis page offers the full record (a zip that verifies), and the sitrep page reads
and prints: its print stylesheet hides the console frame."""

from pathlib import Path

import pytest

from crisis.services.crises import post_situation_update, report_crisis, transition_crisis
from humanitarian.services.sitreps import post_situation_report
from records.verify import verify_archive
from tests.browser.conftest import outside_browser_loop, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _crisis_with_a_sitrep(region):
    crisis = report_crisis(
        by=region.operator_a, desk=region.desk_a, category="flood", title="River flood",
        severity=4, affected_state_codes=["AAA", "BBB"],
    )  # fmt: skip
    crisis = transition_crisis(
        by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="active"
    )
    post_situation_update(by=region.operator_a, desk=region.desk_a, crisis=crisis,
                          conditions="Levee breached at the north bank.", tlp="GREEN")  # fmt: skip
    return crisis, post_situation_report(crisis_id=crisis.pk)


def test_record_download_and_printable_sitrep(people, region):
    crisis, _ = outside_browser_loop(_crisis_with_a_sitrep, region)
    a = people.new_page(region.operator_a)
    a.goto(f"/crises/{crisis.pk}/")
    panel = a.locator("#record-panel")
    panel.wait_for()
    with a.expect_download() as info:
        panel.get_by_role("link", name="Download the full record (zip)").click()
    download = info.value
    assert download.suggested_filename.startswith(f"record-{crisis.reference}-")
    result = verify_archive(Path(download.path()).read_bytes())
    assert result.ok, result.problems
    assert result.checked["timeline_entries"] >= 3

    a.goto(f"/aid/{crisis.pk}/sitreps/")
    a.locator("#sitrep-list a").first.click()
    a.get_by_role("heading", name=f"Situation report {crisis.reference}").wait_for()
    assert a.get_by_text("Levee breached at the north bank.").is_visible()
    assert a.locator('link[rel=stylesheet][media=print][href*="humanitarian/print"]').count() == 1
    assert a.locator("header.top").is_visible()
    a.emulate_media(media="print")
    assert not a.locator("header.top").is_visible()
    assert a.locator("#sitrep").is_visible()
    screenshot(a, "sitrep-print")
