"""Drill traffic says so first: every e-mail, SMS and call of an exercise page starts
"EXERCISE EXERCISE EXERCISE", its webhooks carry ``"exercise": true``, a page of an
exercise crisis's escalation is an exercise page, and real pages are not marked."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from paging.models import Page
from paging.services import page_desk
from tests.crisis.factories import make_crisis, make_escalation_protocol
from tests.paging.conftest import make_due, verified_email, verified_phone
from tests.paging.test_webhooks import add_webhook, receiver  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

MARK = "EXERCISE EXERCISE EXERCISE"
OP_A = "+66812345678"


def drill_page(region, *, exercise=True, key="t:drill") -> Page:
    return page_desk(
        desk=region.desk_a,
        urgency="flash",
        kind="test",
        subject_key=key,
        title="Tsunami warning, Andaman coast",
        body="Wave expected 10:40 local time.",
        exercise=exercise,
    )


def test_email_sms_and_call_of_an_exercise_page_start_with_the_mark(
    region, smtp, sms_provider, fire
):
    verified_phone(region.operator_a, OP_A)
    verified_phone(region.operator_a, OP_A, kind="voice", position=1)
    verified_email(region.operator_a, position=2)
    page = drill_page(region)
    assert page.exercise is True
    fire()
    [mail] = smtp.inbox.to("op-a@example.org")
    assert mail.subject == f"{MARK} [FLASH] Tsunami warning, Andaman coast"
    assert mail.body.splitlines()[0] == MARK
    [text] = sms_provider.messages(to=OP_A)
    assert text.body.startswith(f"{MARK} [FLASH] Tsunami warning, Andaman coast")
    make_due(page.attempts.get(kind="voice"))
    fire()
    [call] = sms_provider.calls(to=OP_A)
    assert "Exercise, exercise, exercise" in call.body


def test_a_real_page_is_not_marked(region, smtp, fire):
    verified_email(region.operator_a)
    page = drill_page(region, exercise=False, key="t:real")
    fire()
    [mail] = smtp.inbox.to("op-a@example.org")
    assert page.exercise is False
    assert "EXERCISE" not in mail.subject and "EXERCISE" not in mail.body


def test_webhooks_of_an_exercise_page_say_so(region, api_client, receiver, fire):  # noqa: F811
    receiver.secret = add_webhook(api_client, region, receiver.url + "/hook").json()["secret"]
    page = drill_page(region)
    fire()
    event = receiver.posts[-1].verified
    assert event["exercise"] is True and event["data"]["exercise"] is True
    listed = api_client.get("/api/v1/pages/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [p["exercise"] for p in rows if p["id"] == page.pk] == [True]


def test_an_exercise_crisis_escalation_pages_as_exercise_and_the_flag_stays(region, smtp, fire):
    for person in (region.operator_a, region.supervisor_a):
        verified_email(person)
    drill = make_crisis(region, make_escalation_protocol(), exercise=True)
    real = make_crisis(region, make_escalation_protocol())
    fire()
    assert {p.exercise for p in Page.objects.filter(payload__crisis_id=drill.pk)} == {True}
    assert {p.exercise for p in Page.objects.filter(payload__crisis_id=real.pk)} == {False}
    subjects = [m.subject for m in smtp.inbox.messages]
    assert sum(s.startswith(MARK) and drill.reference in s for s in subjects) == 2
    assert not any(s.startswith(MARK) for s in subjects if real.reference in s)
    page = Page.objects.filter(payload__crisis_id=drill.pk).first()
    with pytest.raises(DatabaseError, match="never changed"), transaction.atomic():
        Page.objects.filter(pk=page.pk).update(exercise=False)
