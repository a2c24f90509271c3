"""``/metrics``: the token rules, HTTP requests counted by route name, figures read at
scrape time (overdue deadlines, Celery queue depth, an absent broker), all read back
through the real exposition text with prometheus-client's parser."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from deadlines.models import Deadline
from deadlines.services import PROBE_KIND, sweep
from tests.support.api import assert_error
from tests.support.celery_worker import broker
from tests.support.metrics import TOKEN, scrape

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _token(settings):
    settings.METRICS_TOKEN = TOKEN


def test_without_a_token_setting_there_is_no_endpoint(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


def test_only_the_bearer_token_opens_it(client):
    response = client.get("/metrics")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}"), 401)
    assert_error(client.get("/metrics", HTTP_AUTHORIZATION="Bearer "), 401)
    for wrong in ("wrong", TOKEN[:-1], TOKEN + "x"):
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {wrong}")
        assert_error(response, 403, "permission_denied")
        assert "crisis_" not in response.content.decode()
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_requests_are_counted_and_timed_by_route_name_not_path(client):
    before = scrape(client)
    for _ in range(2):
        assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/crises/987654/").status_code in (401, 403)
    assert client.get("/no/such/page/987654/").status_code == 404
    after = scrape(client)

    def delta(name, **labels):
        return after.value(name, **labels) - before.value(name, **labels)

    assert delta("crisis_http_requests_total", method="GET", route="healthz", status="200") == 2
    assert delta("crisis_http_request_duration_seconds_count", method="GET", route="healthz") == 2
    assert delta("crisis_http_request_duration_seconds_sum", method="GET", route="healthz") > 0
    assert (
        sum(
            after.value("crisis_http_requests_total", method="GET", route="crisis-detail", status=s)
            - before.value(
                "crisis_http_requests_total", method="GET", route="crisis-detail", status=s
            )
            for s in ("401", "403")
        )
        == 1
    )
    assert delta("crisis_http_requests_total", method="GET", route="unmatched", status="404") == 1
    # Bounded labels: no raw path or id ever becomes a label value.
    assert "987654" not in after.text


def test_overdue_deadlines_and_sweep_age_are_read_at_scrape(
    client, django_capture_on_commit_callbacks
):
    Deadline.objects.create(
        kind=PROBE_KIND, subject_key="probe:metrics", due_at=timezone.now() - timedelta(minutes=5)
    )
    Deadline.objects.create(  # due, but not overdue past the alert threshold yet
        kind=PROBE_KIND, subject_key="probe:metrics-2", due_at=timezone.now() - timedelta(seconds=1)
    )
    first = scrape(client)
    assert first.value("crisis_deadlines_overdue") == 1
    assert first.value("crisis_metrics_collector_up", collector="deadlines") == 1
    lateness_before = first.value("crisis_deadline_lateness_seconds_count", kind=PROBE_KIND)

    with django_capture_on_commit_callbacks(execute=True):
        sweep()  # fires both (lost tasks rescued) and records its heartbeat
    second = scrape(client)
    assert second.value("crisis_deadlines_overdue") == 0
    assert 0 <= second.value("crisis_deadline_sweep_age_seconds", default=None) < 60
    fired = second.value("crisis_deadline_lateness_seconds_count", kind=PROBE_KIND)
    assert fired - lateness_before == 2
    # One fired five minutes late: it is past the 60 s bucket, the other is within 5 s.
    assert (
        second.value("crisis_deadline_lateness_seconds_bucket", kind=PROBE_KIND, le="60.0")
        - (first.value("crisis_deadline_lateness_seconds_bucket", kind=PROBE_KIND, le="60.0"))
        == 1
    )


def test_celery_queue_depth_and_an_absent_broker(client, private_redis):
    with broker(private_redis.url) as app:
        for _ in range(3):
            app.send_task("humanitarian.tasks.send_reminders")  # the default queue
        app.send_task("deadlines.tasks.sweep_deadlines")  # routed to escalation
        up = scrape(client)
        assert up.value("crisis_celery_broker_up") == 1
        assert up.value("crisis_celery_queue_length", queue="default") == 3
        assert up.value("crisis_celery_queue_length", queue="escalation") == 1

        private_redis.kill()
        started = time.monotonic()
        down = scrape(client)  # still 200: the broker's absence is a figure, not an error
        assert time.monotonic() - started < 5
        assert down.value("crisis_celery_broker_up") == 0
        assert down.labels_of("crisis_celery_queue_length") == []
        assert down.value("crisis_metrics_collector_up", collector="celery") == 1
        assert down.value("crisis_deadlines_overdue", default=None) is not None
