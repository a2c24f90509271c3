"""The console alerts a desk: a desktop notification (Notification API) and the
notification centre updating live, when a crisis escalation tells the desk; the alerts
can be muted per person."""

import pytest

from tests.browser.conftest import screenshot, wait_socket_open
from tests.crisis.factories import AFFECTED, make_crisis, make_version

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

#: Runs before the page's own scripts (an init script is not inline page script: the CSP
#: allows it). Records every desktop notification the console shows, then shows it.
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__shown = [];
  function Recorded(title, options) {
    window.__shown.push({ title: title, body: (options && options.body) || "" });
    try { return new Real(title, options); } catch (e) { return {}; }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
})();
"""


def test_escalation_shows_a_desktop_notification_and_the_centre_updates_live(
    people, region, live_url
):
    make_version(
        name="Maritime protocol",
        category="maritime",
        levels=[{**AFFECTED, "actions": ["notify_all_states"]}],
    )
    crisis = make_crisis(region)  # reported by desk A, state A affected

    b = people.new_page(region.operator_b)
    b.context.grant_permissions(["notifications"], origin=live_url)
    b.add_init_script(RECORD_NOTIFICATIONS)
    b.goto("/notifications/")
    wait_socket_open(b)
    b.get_by_text("Nothing yet.").wait_for()
    assert b.locator("#unread-badge").is_hidden()
    assert b.locator("#alerts-toggle").inner_text() == "Alerts: on"

    # A's supervisor activates the crisis: level 1 tells every member state (B included).
    sup = people.new_page(region.supervisor_a)
    sup.goto(f"/crises/{crisis.pk}/")
    sup.get_by_role("button", name="Activate").click()
    sup.locator("#crisis-status", has_text="Active").wait_for()

    # B's notification centre shows it without a reload, with its paging deliveries.
    item = b.locator("#notification-list li", has_text="every member state is informed")
    item.wait_for()
    assert crisis.reference in item.inner_text()
    assert item.locator("table.deliveries").get_by_text("sup-b").is_visible()
    b.wait_for_function("window.__shown.length > 0")
    shown = b.evaluate("window.__shown")
    assert len(shown) == 1
    assert shown[0]["title"].startswith(crisis.reference)
    assert "every member state is informed" in shown[0]["title"]
    b.locator("#unread-badge", has_text="1").wait_for()
    screenshot(b, "notification-centre")

    # Read: the badge empties. Muting is kept for this person across pages.
    item.get_by_role("button", name="Mark read").click()
    b.get_by_text("0 unread of 1").wait_for()
    b.locator("#unread-badge").wait_for(state="hidden")
    b.locator("#alerts-toggle").click()
    assert b.locator("#alerts-toggle").inner_text() == "Alerts: muted"
    b.goto("/")
    assert b.locator("#alerts-toggle").inner_text() == "Alerts: muted"
