"""Shelters and the standby register through the console only (issue 13): the managing
state's desk registers a shelter and records readings (capacity, people, status), seen
live by the other desk, which gets no form for it; a state's desk adds an asset to the
standby register and changes it, and nobody else is offered that."""

import pytest

from humanitarian.models import Shelter, ShelterOccupancy, StandbyAsset
from tests.browser.conftest import outside_browser_loop, screenshot, wait_socket_open
from tests.browser.test_lines_console import active_crisis

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_register_a_shelter_and_record_its_readings(people, region):
    crisis = outside_browser_loop(active_crisis, region)
    a = people.new_page(region.operator_a)
    a.goto(f"/aid/{crisis.pk}/")
    a.get_by_label("Name").fill("Riverside school")
    a.get_by_label("Capacity").fill("200")
    a.get_by_label("People").fill("150")
    a.get_by_role("button", name="Register shelter").click()
    a.get_by_text("Shelter Riverside school registered.").wait_for()
    shelter = Shelter.objects.get(name="Riverside school")
    assert shelter.managing_desk == region.desk_a

    b = people.new_page(region.operator_b)
    b.goto(f"/aid/{crisis.pk}/")
    wait_socket_open(b)
    row_b = b.locator(f"#shelters-table tr[data-shelter='{shelter.pk}']")
    assert "150 / 200" in row_b.locator(".shelter-occupancy").inner_text()
    assert row_b.get_by_text("Record a reading").count() == 0  # not B's shelter

    row_a = a.locator(f"#shelters-table tr[data-shelter='{shelter.pk}']")
    row_a.get_by_text("Record a reading for Riverside school").click()
    row_a.get_by_label("People").fill("260")
    row_a.get_by_label("Capacity").fill("260")
    screenshot(a, "shelter-reading")
    row_a.get_by_role("button", name="Save reading").click()
    a.get_by_text("Riverside school: 260 people of 260, full.").wait_for()
    assert a.locator(f"tr[data-shelter='{shelter.pk}'] .shelter-status").inner_text() == "Full"

    # B's board follows without a reload.
    b.locator(
        f"tr[data-shelter='{shelter.pk}'] .shelter-occupancy", has_text="260 / 260"
    ).wait_for()
    assert b.locator(f"tr[data-shelter='{shelter.pk}'] .shelter-status").inner_text() == "Full"

    # A closes the shelter (people moved on).
    row_a = a.locator(f"#shelters-table tr[data-shelter='{shelter.pk}']")
    row_a.get_by_text("Record a reading for Riverside school").click()
    row_a.get_by_label("People").fill("0")
    row_a.get_by_label("Status").select_option("closed")
    row_a.get_by_role("button", name="Save reading").click()
    a.get_by_text("Riverside school: 0 people of 260, closed.").wait_for()
    b.locator(f"tr[data-shelter='{shelter.pk}'] .shelter-status", has_text="Closed").wait_for()
    assert list(
        ShelterOccupancy.objects.filter(shelter=shelter)
        .order_by("recorded_at", "id")
        .values_list("population", "capacity", "status")
    ) == [(150, 200, "open"), (260, 260, "full"), (0, 260, "closed")]
    screenshot(b, "shelter-closed-seen-by-b")


def test_keep_the_standby_register(people, region):
    b = people.new_page(region.operator_b)
    b.goto("/aid/")
    b.get_by_role("link", name="Standby register").first.click()
    b.get_by_role("heading", name="Standby register").wait_for()
    b.get_by_label("Name").fill("B USAR light team")
    b.get_by_label("Kind").select_option("sar_team")
    b.get_by_label("Provides").select_option("usar_team")
    b.get_by_label("Capacity").fill("2")
    b.get_by_label("Ready in (hours)").fill("6")
    b.get_by_label("Location").fill("Manila air base")
    b.get_by_role("button", name="Add to the register").click()
    b.get_by_text("B USAR light team added to the standby register.").wait_for()
    asset = StandbyAsset.objects.get(name="B USAR light team")
    assert (asset.state, asset.desk, asset.sector, asset.unit) == (
        region.state_b, region.desk_b, "sar", "team",
    )  # fmt: skip
    row = b.locator(f"#standby-table tr[data-asset='{asset.pk}']")
    assert "2 teams of Urban search and rescue team" in row.inner_text()

    # A sees B's asset and cannot change it; the auditor neither adds nor changes.
    a = people.new_page(region.operator_a)
    a.goto("/aid/standby/")
    a_row = a.locator(f"#standby-table tr[data-asset='{asset.pk}']")
    assert "B USAR light team" in a_row.inner_text()
    assert a_row.get_by_text("Change B USAR light team").count() == 0
    auditor = people.new_page(region.auditor)
    auditor.goto("/aid/standby/")
    assert auditor.get_by_role("button", name="Add to the register").count() == 0
    assert auditor.get_by_text("Change B USAR light team").count() == 0

    # B's supervisor makes it unavailable (deployed elsewhere) and one team bigger.
    sup = people.new_page(region.supervisor_b)
    sup.goto("/aid/standby/")
    row = sup.locator(f"#standby-table tr[data-asset='{asset.pk}']")
    row.get_by_text("Change B USAR light team").click()
    row.get_by_label("Capacity").fill("3")
    row.get_by_label("Available now").uncheck()
    screenshot(sup, "standby-change")
    row.get_by_role("button", name="Save").click()
    sup.get_by_text("B USAR light team updated.").wait_for()
    row = sup.locator(f"#standby-table tr[data-asset='{asset.pk}']")
    assert row.locator(".asset-available").inner_text() == "not available"
    assert "3 teams" in row.inner_text()
    asset.refresh_from_db()
    assert (asset.capacity, asset.is_available, asset.readiness_hours) == (3, False, 6)
    screenshot(sup, "standby-register")
