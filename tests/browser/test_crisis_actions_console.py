"""A crisis's working day in the console only: the desks taking part are added and
removed, checklist tasks are given to a person with a due time typed on the desk's clock
(and the person is reminded when it is due), and the lifecycle and escalation buttons
are offered only to whoever may press them now; the others read what the crisis waits
for. Each scenario checks the effect in the database and on the page."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from crisis.models import (
    CrisisParticipant,
    CrisisStatus,
    CrisisTask,
    EscalationState,
    Notification,
    TimelineEntry,
)
from paging.models import Page, PageRecipient
from tests.browser.conftest import outside_browser_loop, screenshot, wait_socket_open
from tests.crisis.factories import activate, make_protocol, report

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ACTIVATE_WAIT = "Waiting for the lead desk's supervisor (or a regional coordinator) to activate."


def _active_crisis(region):
    make_protocol("maritime")
    crisis = outside_browser_loop(report, region)
    return outside_browser_loop(activate, region, crisis)


def test_the_lead_desk_adds_and_removes_a_desk_another_state_cannot(people, region):
    crisis = _active_crisis(region)  # led by AAA-DESK; states A and B affected

    # Another state's desk sees who takes part, but no form to change it, and why.
    b = people.new_page(region.operator_b)
    b.goto(f"/crises/{crisis.pk}/")
    b.locator("#panel-actions").wait_for()
    assert b.locator("#add-participant").count() == 0
    assert b.get_by_role("button", name="Remove AAA-DESK").count() == 0
    assert "changed by the lead desk's operators" in b.locator("#panel-actions").inner_text()

    # The lead desk's operator adds State C's desk as supporting.
    op = people.new_page(region.operator_a)
    op.goto(f"/crises/{crisis.pk}/")
    form = op.locator("#add-participant")
    form.get_by_label("Desk (by member state)").select_option("CCC-DESK")
    form.get_by_label("Takes part as").select_option("supporting")
    form.get_by_role("button", name="Add desk").click()
    op.get_by_text("CCC-DESK takes part as supporting.").wait_for()
    joined = CrisisParticipant.objects.get(crisis=crisis, desk=region.desk_c)
    assert joined.role == "supporting"
    # The desk gets its checklist; the lead cannot be removed (no button for it).
    assert CrisisTask.objects.filter(crisis=crisis, desk=region.desk_c).exists()
    participants = op.locator("#participants")
    assert "CCC-DESK" in participants.inner_text()
    assert participants.get_by_role("button", name="Remove AAA-DESK").count() == 0
    assert op.locator("#participant-desk option[value=CCC-DESK]").count() == 0
    screenshot(op, "crisis-participants")

    # C's operator now finds the crisis and its checklist.
    c = people.new_page(region.operator_c)
    c.goto(f"/crises/{crisis.pk}/")
    c.get_by_role("heading", name="Checklist of CCC-DESK").wait_for()
    assert c.locator("#tasks li").count() >= 1

    # Removed again: its open tasks go with it.
    op.locator("#participants").get_by_role("button", name="Remove CCC-DESK").click()
    op.get_by_text("CCC-DESK no longer takes part.").wait_for()
    assert not CrisisParticipant.objects.filter(crisis=crisis, desk=region.desk_c).exists()
    assert not CrisisTask.objects.filter(crisis=crisis, desk=region.desk_c).exists()
    assert TimelineEntry.objects.filter(crisis=crisis, kind="participant_removed").exists()
    timeline = op.locator("#timeline").inner_text()
    assert "A desk no longer takes part: CCC-DESK" in timeline
    assert "Desks taking part changed: CCC-DESK (— → supporting)" in timeline
    assert op.locator("#participant-desk option[value=CCC-DESK]").count() == 1


def test_a_task_is_assigned_with_a_local_due_time_and_its_assignee_reminded(
    people, region, celery_worker
):
    crisis = _active_crisis(region)
    task = CrisisTask.objects.get(crisis=crisis, desk=region.desk_a, title="Confirm focal point")

    # Another state's desk does not see desk A's checklist, so nothing to assign there.
    b = people.new_page(region.operator_b)
    b.goto(f"/crises/{crisis.pk}/")
    b.get_by_role("heading", name="Checklist of BBB-DESK").wait_for()
    assert b.locator(f"#tasks li[data-task='{task.pk}']").count() == 0

    sup = people.new_page(region.supervisor_a)
    sup.goto(f"/crises/{crisis.pk}/")
    item = sup.locator(f"#tasks li[data-task='{task.pk}']")
    assert "assigned to nobody" in item.inner_text()
    item.get_by_text("Assign “Confirm focal point”").click()
    # The form says on whose clock the time is read.
    item.get_by_label("Person").select_option(label="op-a")
    item.get_by_label("Due (Asia/Bangkok)").fill("2030-01-06T09:00")
    assert "Asia/Bangkok" in item.locator("small").inner_text()
    item.get_by_role("button", name="Assign").click()
    sup.get_by_text("Task given to op-a.").wait_for()
    task.refresh_from_db()
    assert task.assignee == region.operator_a
    # 09:00 in Bangkok (UTC+7) is 02:00 UTC; shown on the desk's clock with UTC beside.
    assert task.due_at == datetime(2030, 1, 6, 2, 0, tzinfo=UTC)
    item = sup.locator(f"#tasks li[data-task='{task.pk}']")
    text = item.inner_text()
    assert "assigned to op-a" in text
    assert "2030-01-06 09:00 +07 (Asia/Bangkok) · 02:00 UTC" in text
    screenshot(sup, "task-assigned")

    # The operator on B's desk is not offered desk A's people; the assignee reassigns
    # it to themself, due now: the reminder fires (the real worker) and pages them.
    op = people.new_page(region.operator_a)
    op.goto("/notifications/")
    wait_socket_open(op)
    now_local = datetime.now(ZoneInfo("Asia/Bangkok")).strftime("%Y-%m-%dT%H:%M")
    work = people.new_page(region.operator_a)
    work.goto(f"/crises/{crisis.pk}/")
    item = work.locator(f"#tasks li[data-task='{task.pk}']")
    item.get_by_text("Assign “Confirm focal point”").click()
    assert item.get_by_label("Person").locator("option").all_inner_texts() == [
        "— nobody —",
        "op-a",
        "sup-a",
    ]
    item.get_by_label("Due (Asia/Bangkok)").fill(now_local)
    item.get_by_role("button", name="Assign").click()
    work.get_by_text("Task given to op-a.").wait_for()

    told = op.locator("#notification-list li", has_text="task due — Confirm focal point (op-a)")
    told.wait_for()
    assert crisis.reference in told.inner_text()
    notification = Notification.objects.get(kind="task.due")
    assert notification.desk == region.desk_a
    page = Page.objects.get(kind="crisis.task")
    assert list(
        PageRecipient.objects.filter(page=page).values_list("user__username", flat=True)
    ) == ["op-a"]
    assert TimelineEntry.objects.filter(crisis=crisis, kind="task_reminder_sent").count() == 1
    screenshot(op, "task-reminder")

    # Ticked done, it can no longer be assigned (no form).
    work.reload()
    work.get_by_role("button", name="Mark done: Confirm focal point").click()
    work.locator(f"#tasks li[data-task='{task.pk}'] s").wait_for()
    assert work.locator(f"#tasks li[data-task='{task.pk}'] details").count() == 0


def test_lifecycle_buttons_only_for_who_may_press_them(people, region):
    make_protocol("maritime")
    crisis = outside_browser_loop(report, region)  # reported by AAA-DESK's operator

    # The operator of the lead desk: no Activate, the wait in words; may change severity.
    op = people.new_page(region.operator_a)
    op.goto(f"/crises/{crisis.pk}/")
    op.locator("#crisis-status", has_text="Reported").wait_for()
    assert op.locator("#transitions").count() == 0
    assert ACTIVATE_WAIT in op.locator("#summary").inner_text()
    assert op.locator("#change-severity").count() == 1
    assert op.locator("#acknowledge").count() == 0  # nothing to acknowledge yet

    # Another state's desk: no lifecycle button, no severity form, and why.
    b = people.new_page(region.operator_b)
    b.goto(f"/crises/{crisis.pk}/")
    b.locator("#crisis-status", has_text="Reported").wait_for()
    assert b.locator("#transitions").count() == 0
    assert ACTIVATE_WAIT in b.locator("#summary").inner_text()
    assert b.locator("#change-severity").count() == 0
    assert b.locator("#acknowledge").count() == 0

    # The lead desk's supervisor: Activate and Dismiss, no waiting words.
    sup = people.new_page(region.supervisor_a)
    sup.goto(f"/crises/{crisis.pk}/")
    assert sup.locator("#summary [data-waits]").count() == 0
    assert sup.locator("#transitions").get_by_role("button").all_inner_texts() == [
        "Activate",
        "Dismiss",
    ]
    screenshot(sup, "crisis-lifecycle-supervisor")
    sup.get_by_role("button", name="Activate").click()
    sup.locator("#crisis-status", has_text="Active").wait_for()
    crisis.refresh_from_db()
    assert crisis.status == CrisisStatus.ACTIVE

    # Level 1 asks the affected desks: B acknowledges, then may report progress; the
    # lead desk's operator (who did not acknowledge) may not, and may not de-escalate.
    b.reload()
    b.get_by_role("button", name="Acknowledge for BBB-DESK").click()
    b.get_by_text("BBB-DESK has acknowledged").wait_for()
    assert b.locator("#stop-escalation").count() == 0
    assert "Only a supervisor or a coordinator" in b.locator("#panel-actions").inner_text()
    b.locator("#report-progress").get_by_label("What has been done since the acknowledgement").fill(
        "Patrol boat on its way"
    )
    b.get_by_role("button", name="Report progress").click()
    b.get_by_text("Progress reported.").wait_for()
    assert TimelineEntry.objects.filter(crisis=crisis, kind="progress_reported").exists()

    op.reload()
    op.locator("#crisis-status", has_text="Active").wait_for()
    assert op.locator("#report-progress").count() == 0
    assert op.locator("#transitions").count() == 0
    assert (
        "Waiting for the lead desk's supervisor (or a regional coordinator) to de-escalate."
        in op.locator("#summary").inner_text()
    )
    screenshot(op, "crisis-lifecycle-operator")

    # The supervisor raises the severity, stops the escalation, then takes the crisis
    # through de-escalation, resolution and closure.
    sup.reload()
    severity = sup.locator("#change-severity")
    severity.get_by_label("Severity (1 low to 5 catastrophic)").select_option("5")
    severity.get_by_role("button", name="Change severity").click()
    sup.get_by_text("Severity is now 5.").wait_for()
    stop = sup.locator("#stop-escalation")
    stop.get_by_label("Why (required)").fill("Desk B has it in hand")
    stop.get_by_role("button", name="Stop escalation").click()
    sup.get_by_text("Escalation stopped: nobody is notified any more.").wait_for()
    crisis.refresh_from_db()
    assert (crisis.severity, crisis.escalation_state) == (5, EscalationState.STOPPED)
    for button, status in (
        ("De-escalate", "De-escalating"),
        ("Resolve", "Resolved"),
        ("Close", "Closed"),
    ):
        sup.locator("#transitions").get_by_role("button", name=button).click()
        sup.locator("#crisis-status", has_text=status).wait_for()
    crisis.refresh_from_db()
    assert crisis.status == CrisisStatus.CLOSED
    # Closed: nothing left to press, for anyone.
    assert sup.locator("#transitions").count() == 0
    assert sup.locator("#change-severity").count() == 0
    assert sup.locator("#add-participant").count() == 0
    b.reload()
    assert b.locator("#transitions").count() == 0
    assert b.locator("#post-update").count() == 0
