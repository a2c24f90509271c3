"""A desk's working day in the console beyond crises and lines: the duty roster, one's
contact methods, the desk's webhooks and crisis room invitations. Each scenario is
driven through the console only and checks the effect in the database and on the page."""

import re

import pytest

from tests.browser.conftest import outside_browser_loop, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_keeps_the_roster_and_an_operator_hands_over(people, region):
    from rosters.models import HandoverNote, Override, Shift

    sup = people.new_page(region.supervisor_a)
    sup.goto("/roster/")
    sup.get_by_role("heading", name="Duty roster of AAA-DESK").wait_for()
    # Nobody on shift: the supervisors are on duty, and the page says so.
    assert "supervisors are on duty" in sup.locator("#on-duty").inner_text()

    # A shift for the operator, typed in the desk's zone (Asia/Bangkok).
    form = sup.locator("#add-shift")
    form.get_by_label("Person").select_option("op-a")
    form.get_by_label("Starts (Asia/Bangkok)").fill("2030-01-06T08:00")
    form.get_by_label("Length (min)").fill("600")
    form.get_by_label("Repeats").select_option("weekdays")
    form.get_by_role("button", name="Add shift").click()
    sup.get_by_text("Shift added.").wait_for()
    shift = Shift.objects.get()
    assert (shift.person.username, str(shift.start_time), shift.duration_minutes) == (
        "op-a",
        "08:00:00",
        600,
    )
    assert shift.rrule == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    row = sup.locator("#shifts tbody tr", has_text="op-a")
    assert "600 min" in row.inner_text() and "on weekdays" in row.inner_text()

    # "I cover tonight": the form suggests tonight 20:00 to 08:00 in the desk's zone.
    cover = sup.locator("#add-override")
    assert cover.get_by_label("Person").input_value() == "sup-a"
    cover.get_by_label("From (Asia/Bangkok)").fill("2030-01-06T20:00")
    cover.get_by_label("Until (Asia/Bangkok)").fill("2030-01-07T08:00")
    cover.get_by_label("Note").fill("storm night")
    cover.get_by_role("button", name="Add cover").click()
    sup.get_by_text("Cover added.").wait_for()
    override = Override.objects.get()
    # 20:00 in Bangkok (UTC+7) is 13:00 UTC.
    assert override.starts_at.isoformat() == "2030-01-06T13:00:00+00:00"
    item = sup.locator("#overrides li", has_text="storm night")
    assert "2030-01-06 20:00 +07 (Asia/Bangkok) · 13:00 UTC" in item.inner_text()
    screenshot(sup, "roster")

    # The operator reads the roster, may not change it (no forms), and hands over.
    op = people.new_page(region.operator_a)
    op.goto("/roster/")
    op.locator("#shifts").wait_for()
    assert op.locator("#add-shift").count() == 0
    assert op.locator("#add-override").count() == 0
    assert op.get_by_role("button", name="Remove shift").count() == 0
    op.get_by_label("What the next officer needs to know").fill("Line to BBB was noisy.")
    op.get_by_role("button", name="Save handover note").click()
    op.get_by_text("Handover note saved.").wait_for()
    assert HandoverNote.objects.get().author == region.operator_a
    assert "Line to BBB was noisy." in op.locator("#notes").inner_text()

    # The supervisor removes the cover and the shift.
    sup.reload()
    sup.locator("#overrides li", has_text="storm night").get_by_role(
        "button", name="Remove cover"
    ).click()
    sup.get_by_text("Cover removed.").wait_for()
    assert not Override.objects.exists()
    sup.get_by_role("button", name="Remove shift").click()
    sup.get_by_text("Shift removed.").wait_for()
    assert not Shift.objects.exists()

    # The desk's calendar tool exported next month's day shifts: imported from the page.
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:day-1\r\nSUMMARY:op-a\r\n"
        "DTSTART;TZID=Asia/Bangkok:20300107T080000\r\n"
        "DTEND;TZID=Asia/Bangkok:20300107T180000\r\nRRULE:FREQ=DAILY\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    upload = sup.locator("#import-calendar")
    upload.get_by_label("Calendar file (.ics)").set_input_files(
        files=[{"name": "desk.ics", "mimeType": "text/calendar", "buffer": ics.encode()}]
    )
    upload.get_by_role("button", name="Import calendar").click()
    sup.get_by_text("Calendar imported: 1 shifts and 0 covers added, 0 removed.").wait_for()
    imported = Shift.objects.get()
    assert (imported.uid, str(imported.start_time), imported.rrule) == (
        "day-1",
        "08:00:00",
        "FREQ=DAILY",
    )
    assert "every day" in sup.locator("#shifts tbody tr", has_text="op-a").inner_text()
    sup.get_by_role("link", name="Download the roster as a calendar (.ics)").wait_for()


def test_an_operator_adds_verifies_and_removes_a_contact_method(people, region, mailoutbox):
    from paging.models import ContactMethod
    from paging.services.contacts import send_verification_code

    op = people.new_page(region.operator_a)
    op.goto("/account/contact-methods/")
    op.get_by_text("No contact methods yet").wait_for()
    form = op.locator("#add-method")
    form.get_by_label("Method").select_option("email")
    form.get_by_label("Address").fill("op-a@example.org")
    form.get_by_role("button", name="Add and send a code").click()
    op.get_by_text("We sent a code to op-a@example.org").wait_for()
    method = ContactMethod.objects.get(user=region.operator_a)
    assert not method.is_verified

    # The server e-mailed a code; the test asks for a new one through the same service to
    # learn it (its own mail outbox), as the person would read it in their mailbox.
    outside_browser_loop(send_verification_code, user=region.operator_a, method_id=method.pk)
    code = re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)
    # A wrong code is refused with the reason; the method stays unverified.
    wrong = "111111" if code != "111111" else "222222"
    row = op.locator(f"tr[data-method='{method.pk}']")
    row.get_by_label("Code").fill(wrong)
    row.get_by_role("button", name="Verify").click()
    op.get_by_text("The code is wrong.").wait_for()
    method.refresh_from_db()
    assert not method.is_verified and method.code_attempts == 1

    # The right code (the one the person was sent) verifies it.
    op.locator(f"tr[data-method='{method.pk}']").get_by_label("Code").fill(code)
    op.locator(f"tr[data-method='{method.pk}']").get_by_role("button", name="Verify").click()
    op.get_by_text("Verified: pages can reach you this way.").wait_for()
    method.refresh_from_db()
    assert method.is_verified
    assert op.locator(f"tr[data-method='{method.pk}']").get_by_label("Code").count() == 0
    screenshot(op, "contact-methods")

    op.get_by_role("button", name="Remove").click()
    op.get_by_text("Contact method removed.").wait_for()
    assert not ContactMethod.objects.filter(user=region.operator_a).exists()


def test_a_supervisor_adds_and_rotates_a_webhook_an_operator_is_told_why_not(people, region):
    from paging.models import DeskWebhook

    op = people.new_page(region.operator_a)
    op.goto("/webhooks/")
    op.locator("#webhooks-why").wait_for()
    assert op.locator("#add-webhook").count() == 0

    sup = people.new_page(region.supervisor_a)
    sup.goto("/webhooks/")
    form = sup.locator("#add-webhook")
    form.get_by_label("Address (URL)").fill("https://desk-a.example.org/hooks/pages")
    form.get_by_label("Description").fill("Desk A ticketing")
    form.get_by_label("Flash").check()
    form.get_by_role("button", name="Add webhook").click()
    sup.get_by_text("Webhook added.").wait_for()
    hook = DeskWebhook.objects.get()
    assert hook.desk == region.desk_a and hook.urgencies == ["flash"]
    first = sup.locator("#secret-value").inner_text()
    assert first == hook.secret and first.startswith("whsec_")
    assert sup.locator("#deliveries").get_by_text("Nothing posted yet.").is_visible()

    # The secret is shown once: not on the next visit.
    sup.reload()
    assert sup.locator("#secret").count() == 0

    sup.get_by_role("button", name="Make a new secret").click()
    sup.get_by_text("New secret made").wait_for()
    hook.refresh_from_db()
    assert sup.locator("#secret-value").inner_text() == hook.secret != first

    sup.get_by_role("button", name="Pause").click()
    sup.get_by_text("Webhook paused.").wait_for()
    hook.refresh_from_db()
    assert not hook.is_active
    assert sup.locator("#hook-state").inner_text() == "paused"
    screenshot(sup, "webhook")

    sup.get_by_role("button", name="Remove webhook").click()
    sup.get_by_text("Webhook removed.").wait_for()
    assert not DeskWebhook.objects.exists()


def test_an_invited_desk_accepts_a_crisis_room_invitation(people, region):
    from hotline.models import InvitationStatus, RoomInvitation
    from hotline.selectors import current_members
    from hotline.services.channels import open_crisis_room

    room = outside_browser_loop(
        open_crisis_room,
        by=region.operator_a,
        name="Flood room",
        desk_ids=[region.desk_a.pk, region.desk_b.pk],
    )
    assert RoomInvitation.objects.get().desk == region.desk_b

    b = people.new_page(region.operator_b)
    b.goto("/")
    panel = b.locator("#invitations li", has_text="Flood room")
    assert "AAA-DESK invites your desk" in panel.inner_text()
    screenshot(b, "room-invitation")
    panel.get_by_role("button", name="Accept").click()
    b.get_by_text("Invitation accepted").wait_for()
    assert b.url.endswith(f"/lines/{room.pk}/")
    assert RoomInvitation.objects.get().status == InvitationStatus.ACCEPTED
    assert current_members().filter(channel=room, desk=region.desk_b).exists()
    b.goto("/")
    assert b.locator("#invitations").count() == 0


def test_a_lead_desk_posts_an_update_changes_severity_and_stops_the_escalation(people, region):
    from crisis.models import Crisis, EscalationState, SituationUpdate, TimelineEntry
    from tests.crisis.factories import AFFECTED, make_crisis, make_version

    version = make_version(name="Maritime protocol", levels=[AFFECTED])
    crisis = outside_browser_loop(make_crisis, region, version)
    assert crisis.escalation_state == EscalationState.ESCALATING

    # The operator may post and change severity, not stop: the page says who can.
    op = people.new_page(region.operator_a)
    op.goto(f"/crises/{crisis.pk}/")
    panel = op.locator("#panel-actions")
    panel.get_by_label("Conditions (what is the situation now)").fill("Ferry listing, 40 aboard")
    panel.get_by_label("Needs").fill("Two rescue boats")
    panel.get_by_role("button", name="Post update").click()
    op.get_by_text("Situation update posted.").wait_for()
    update = SituationUpdate.objects.get(crisis=crisis)
    assert (update.conditions, update.needs) == ("Ferry listing, 40 aboard", "Two rescue boats")
    assert op.locator("#panel-actions #stop-escalation").count() == 0
    assert "Only a supervisor or a coordinator" in op.locator("#panel-actions").inner_text()

    op.locator("#panel-actions").get_by_label("Severity (1 low to 5 catastrophic)").select_option(
        "4"
    )
    op.locator("#panel-actions").get_by_label("Why").fill("more aboard than reported")
    op.locator("#panel-actions").get_by_role("button", name="Change severity").click()
    op.get_by_text("Severity is now 4.").wait_for()
    crisis.refresh_from_db()
    assert crisis.severity == 4

    # The supervisor stops the escalation, saying why.
    sup = people.new_page(region.supervisor_a)
    sup.goto(f"/crises/{crisis.pk}/")
    stop = sup.locator("#stop-escalation")
    stop.get_by_label("Why (required)").fill("Coast guard on scene")
    stop.get_by_role("button", name="Stop escalation").click()
    sup.get_by_text("Escalation stopped: nobody is notified any more.").wait_for()
    crisis = Crisis.objects.get(pk=crisis.pk)
    assert crisis.escalation_state == EscalationState.STOPPED
    assert TimelineEntry.objects.filter(crisis=crisis, kind="escalation_stopped").exists()
    assert sup.locator("#stop-escalation").count() == 0
    screenshot(sup, "crisis-actions")
