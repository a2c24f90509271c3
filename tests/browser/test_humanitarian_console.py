"""Acceptance scenario 5 in a browser: a pledge flows through to "delivered" and the
chart changes; plus the CSV import handed to a real worker, with its progress bar and
report, shelters' occupancy bars and the HXL download."""

from datetime import date, timedelta

import pytest

from crisis.services.crises import report_crisis, transition_crisis
from humanitarian.models import DisplacementReport, Pledge, PledgeStatus
from humanitarian.services.shelters import register_shelter, update_shelter
from tests.browser.conftest import outside_browser_loop, screenshot, wait_socket_open

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _active_crisis(region):
    crisis = report_crisis(
        by=region.operator_a, desk=region.desk_a, category="flood", title="River flood",
        severity=4, affected_state_codes=["AAA", "BBB"],
    )  # fmt: skip
    return transition_crisis(
        by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="active"
    )


def delivered_value(page) -> int:
    bar = page.locator("#gap-chart g[data-series=delivered]").first
    return int(bar.get_attribute("data-value"))


def test_pledge_flows_to_delivered_and_the_chart_changes(people, region):
    crisis = outside_browser_loop(_active_crisis, region)
    a = people.new_page(region.operator_a)
    a.goto(f"/aid/{crisis.pk}/")
    assert a.get_by_text("No requests yet: nothing to chart.").is_visible()
    a.get_by_label("Sector").select_option("shelter")
    a.get_by_label("Item").select_option("family_tent")
    a.get_by_label("Quantity").fill("100")
    a.get_by_label("Needed by").fill((date.today() + timedelta(days=3)).isoformat() + "T12:00")
    a.get_by_role("button", name="Open request").click()
    row_a = a.locator("#requests-table tr", has_text="Family tent")
    row_a.wait_for()
    assert delivered_value(a) == 0
    wait_socket_open(a)

    b = people.new_page(region.operator_b)
    b.goto(f"/aid/{crisis.pk}/")
    wait_socket_open(b)
    row_b = b.locator("#requests-table tr", has_text="Family tent")
    row_b.get_by_label("Pledge quantity").fill("60")
    row_b.get_by_role("button", name="Pledge").click()
    b.locator(".pledge-status", has_text="Offered").wait_for()

    # A's board hears of the pledge without a reload, and accepts it.
    row_a.get_by_role("button", name="Accept").click()
    a.locator(".pledge-status", has_text="Accepted").wait_for()
    # B's board updates live; B dispatches.
    b.locator("#requests-table tr", has_text="Family tent").get_by_role(
        "button", name="Dispatch"
    ).click()
    b.locator(".pledge-status", has_text="Dispatched").wait_for()
    a.locator("#requests-table tr", has_text="Family tent").get_by_role(
        "button", name="Confirm receipt"
    ).wait_for()
    row_a = a.locator("#requests-table tr", has_text="Family tent")
    row_a.get_by_label("Received").fill("55")
    row_a.get_by_role("button", name="Confirm receipt").click()
    a.locator(".pledge-status", has_text="Delivered").wait_for()
    assert Pledge.objects.get().status == PledgeStatus.DELIVERED

    # The chart changed, on A's page and, live, on B's.
    assert delivered_value(a) == 55
    b.wait_for_function(
        "() => document.querySelector('#gap-chart g[data-series=delivered]')"
        "?.getAttribute('data-value') === '55'"
    )
    screenshot(a, "aid-board-delivered")
    a.goto(f"/crises/{crisis.pk}/")
    assert int(a.locator("#panel-aid g[data-series=delivered]").get_attribute("data-value")) == 55


def _csv(rows: int, *, bad_row: int | None = None) -> str:
    lines = [
        "Country code,Country,Admin 1,Admin 1 code,Reporting date,Round,IDPs (individuals),"
        "Refugees (individuals),Source",
        "#country+code,#country+name,#adm1+name,#adm1+code,#date+reported,#meta+round,"
        "#affected+idps+ind,#affected+refugees+ind,#meta+source",
    ]
    for n in range(1, rows + 1):
        idps = "many" if n == bad_row else str(n)
        lines.append(f"AAA,State A,Province {n},AA-{n},2026-01-05,1,{idps},0,Test DTM")
    return "\n".join(lines) + "\n"


def test_import_runs_on_the_worker_with_progress_and_report(
    people, region, celery_worker, tmp_path
):
    crisis = outside_browser_loop(_active_crisis, region)
    shelter = outside_browser_loop(
        register_shelter, by=region.operator_a, desk=region.desk_a, crisis=crisis,
        name="Riverside school", capacity=200, population=120,
    )  # fmt: skip
    outside_browser_loop(
        update_shelter, by=region.operator_a, shelter_id=shelter.pk, population=150
    )
    a = people.new_page(region.operator_a)
    a.goto(f"/aid/{crisis.pk}/")
    meter = a.get_by_role("meter", name="Riverside school occupancy")
    assert meter.get_attribute("aria-valuenow") == "150"
    assert "75 %" in a.locator("#shelters-table").inner_text()
    assert a.locator("#shelters-table svg.sparkline").get_attribute("data-readings") == "2"

    bad = tmp_path / "dtm-bad.csv"
    bad.write_text(_csv(600, bad_row=321))  # file line 323: two header rows
    a.get_by_label("File").set_input_files(str(bad))
    a.get_by_role("button", name="Import").click()
    a.locator("#import-status[data-status=failed]").wait_for(state="attached", timeout=30_000)
    report = a.locator("#import-errors").inner_text()
    assert "323" in report and "'many' is not a whole number" in report
    assert DisplacementReport.objects.count() == 0

    good = tmp_path / "dtm.csv"
    good.write_text(_csv(600))
    a.get_by_label("File").set_input_files(str(good))
    a.get_by_role("button", name="Import").click()
    a.locator("#import-status[data-status=succeeded]").wait_for(state="attached", timeout=30_000)
    assert a.locator("#import-progress").get_attribute("value") == "100"
    assert DisplacementReport.objects.count() == 600
    a.reload()
    # 1 + 2 + … + 600 internally displaced, on the one reporting date of the file.
    assert "180300 internally displaced" in a.locator("#displaced-total").inner_text()
    screenshot(a, "aid-board-import")

    with a.expect_download() as download:
        a.get_by_role("link", name="displacement", exact=True).click()
    lines = download.value.path().read_text().splitlines()
    assert "#country+code" in lines[1].split(",") and len(lines) == 2 + 600
