"""The demo pages every demo person by e-mail: a verified address and rules for every urgency."""

import pytest

from paging import demo
from paging.models import DeliveryAttempt, NotificationRule, Urgency
from paging.services import page_desk

pytestmark = pytest.mark.django_db


def test_demo_people_are_paged_by_email_for_every_urgency(region):
    demo.seed()
    demo.seed()  # idempotent
    rules = NotificationRule.objects.filter(user=region.supervisor_b)
    assert sorted(rules.values_list("urgency", flat=True)) == sorted(Urgency.values)
    assert set(rules.values_list("kind", "delay_seconds")) == {("email", 0)}
    page = page_desk(
        desk=region.desk_b,
        urgency=Urgency.ESCALATION,
        kind="demo",
        subject_key="demo:1",
        title="Demo page",
        body="Demo",
    )
    attempt = DeliveryAttempt.objects.get(page=page, recipient__user=region.supervisor_b)
    assert (attempt.kind, attempt.address) == ("email", "sup-b@example.org")
    assert attempt.state == "queued"
