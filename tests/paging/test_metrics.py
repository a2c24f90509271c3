"""Paging send tries in ``/metrics``, by transport and outcome (real SMTP server)."""

from __future__ import annotations

import pytest

from deadlines.services import fire_due_deadlines
from tests.paging.conftest import verified_email
from tests.paging.test_pages import page_a
from tests.support.metrics import TOKEN, scrape

pytestmark = pytest.mark.django_db


def test_send_tries_are_counted_by_transport_and_outcome(
    region, smtp, settings, client, django_capture_on_commit_callbacks
):
    settings.METRICS_TOKEN = TOKEN

    def fire():
        with django_capture_on_commit_callbacks(execute=True):
            fire_due_deadlines()

    def tries(outcome):
        return scrape(client).value(
            "crisis_paging_send_attempts_total", transport="email", outcome=outcome
        )

    outcomes = ("sent", "transient_failure", "permanent_failure")

    def counts():
        return {o: tries(o) for o in outcomes}

    verified_email(region.operator_a)
    verified_email(region.supervisor_a, "gone@example.org")
    smtp.inbox.refused.add("gone@example.org")
    before = counts()
    page_a(region, key="t:1")
    fire()  # op-a's mail is sent; gone@ is refused with a 550
    first = counts()
    assert {o: first[o] - before[o] for o in outcomes} == {
        "sent": 1,
        "transient_failure": 0,
        "permanent_failure": 1,
    }

    settings.EMAIL_PORT = 1  # nothing listens there: both tries of the next page fail
    page_a(region, key="t:2")
    fire()
    second = counts()
    assert second["transient_failure"] - first["transient_failure"] == 2
    assert second["sent"] == first["sent"]
