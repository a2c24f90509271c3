"""Reminders (once each) and the daily situation report (once per crisis and day)."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from crisis.models import TimelineEntry
from crisis.services.timeline import verify_all
from humanitarian import tasks
from humanitarian.models import Reminder, SituationReport
from humanitarian.services import assistance
from humanitarian.services.reminders import send_due_reminders
from humanitarian.services.sitreps import post_situation_report
from tests.humanitarian.conftest import (
    API,
    import_displacement,
    make_crisis,
    make_pledge,
    make_request,
    make_shelter,
)

pytestmark = pytest.mark.django_db


def reminder_entries(crisis):
    return TimelineEntry.objects.filter(crisis=crisis, kind__startswith="assistance.reminder")


def test_reminders_are_sent_once(region, crisis):
    late_need = make_request(region, crisis, quantity=10, needed_in_hours=-2)
    make_request(region, crisis, quantity=10)  # not due yet
    req = make_request(region, crisis, quantity=10)
    pledge = make_pledge(region, req, quantity=10)
    assistance.accept_pledge(by=region.operator_a, pledge_id=pledge.pk)
    assistance.dispatch_pledge(
        by=region.operator_b, pledge_id=pledge.pk, eta=timezone.now() - timedelta(hours=1)
    )
    assert send_due_reminders() == {"pledges": 1, "needs": 1}
    assert send_due_reminders() == {"pledges": 0, "needs": 0}
    assert tasks.send_reminders.apply().get() == {"pledges": 0, "needs": 0}
    kinds = sorted(reminder_entries(crisis).values_list("kind", flat=True))
    assert kinds == ["assistance.reminder_need_past_due", "assistance.reminder_pledge_past_eta"]
    assert Reminder.objects.get(request=late_need).due_at == late_need.needed_by

    # A new ETA that passes again is reminded again, once.
    pledge.refresh_from_db()
    pledge.eta = timezone.now() - timedelta(minutes=5)
    pledge.save(update_fields=["eta"])
    assert send_due_reminders() == {"pledges": 1, "needs": 0}
    # Delivered: no more reminders about it.
    assistance.confirm_delivery(by=region.operator_a, pledge_id=pledge.pk, quantity_received=10)
    pledge.refresh_from_db()
    pledge.eta = timezone.now() - timedelta(minutes=1)
    pledge.save(update_fields=["eta"])
    assert send_due_reminders() == {"pledges": 0, "needs": 0}
    assert verify_all() == []


def test_reminders_skip_closed_and_delivered_needs(region, crisis):
    closed = make_request(region, crisis, quantity=10, needed_in_hours=-2)
    assistance.close_request(by=region.operator_a, request_id=closed.pk)
    assert send_due_reminders() == {"pledges": 0, "needs": 0}


@pytest.fixture
def eager_celery():
    """Run tasks sent with .delay() in-process (no broker message is left behind)."""
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def test_daily_sitrep_once_per_day_on_the_timeline(region, crisis, api_client, eager_celery):
    req = make_request(region, crisis, quantity=10)
    assistance.accept_pledge(
        by=region.operator_a, pledge_id=make_pledge(region, req, quantity=4).pk
    )
    make_shelter(region, crisis, name="Gym", capacity=200, population=150)
    import_displacement(region, crisis)
    make_crisis(region, ref="CR-2026-0999", status="closed")

    assert tasks.post_daily_situation_reports.apply().get() == 1  # fans out per active crisis
    report = SituationReport.objects.get(crisis=crisis)
    assert post_situation_report(crisis_id=crisis.pk).pk == report.pk
    assert SituationReport.objects.count() == 1
    assert (
        TimelineEntry.objects.filter(crisis=crisis, kind="humanitarian.sitrep_posted").count() == 1
    )

    c = report.content
    assert c["needs"] == 1 and c["coverage_pct"] == 40.0
    assert c["pledges_by_status"] == {"accepted": 1}
    assert c["displacement"] == {"round": 1, "idps": 4500, "refugees": 190, "areas": 3}
    assert c["shelters"] == {"sites": 1, "population": 150, "capacity": 200}
    assert c["escalation"]["state"] == "not_started"
    assert "DISPLACEMENT (round 1): 4500 IDPs, 190 refugees in 3 areas" in report.text

    api_client.force_authenticate(region.operator_b)
    listed = api_client.get(f"{API}/sitreps/?crisis={crisis.pk}").json()["results"]
    assert [r["id"] for r in listed] == [report.pk]
    response = api_client.get(f"{API}/sitreps/{report.pk}/text/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == report.text
    api_client.force_authenticate(region.operator_c)
    assert api_client.get(f"{API}/sitreps/{report.pk}/").status_code == 404

    # Another day, another report.
    post_situation_report(crisis_id=crisis.pk, report_date=date.today() + timedelta(days=1))
    assert SituationReport.objects.filter(crisis=crisis).count() == 2


def test_beat_schedule_has_the_periodic_tasks():
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"humanitarian.tasks.send_reminders",
            "humanitarian.tasks.post_daily_situation_reports"} <= tasks_scheduled  # fmt: skip
