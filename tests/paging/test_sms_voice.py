"""SMS and voice through a local server speaking Twilio's REST API: numbers verified by
code, flash pages by SMS at once and a call after its delay (unless acknowledged first),
5xx retried and then failed over, every try logged, the provider's receipts recorded."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from deadlines.models import Deadline
from paging.models import DeliveryAttempt, NotificationRule, Page
from paging.services import acknowledge_page, page_desk
from paging.services.delivery import ATTEMPT_KIND
from tests.paging.conftest import make_due, verified_email, verified_phone
from tests.support.http_providers import twilio_signature

pytestmark = pytest.mark.django_db

URL = "/api/v1/contact-methods/"
OP_A = "+66812345678"
SUP_A = "+66891234567"


def flash(region, key="t:flash") -> Page:
    return page_desk(
        desk=region.desk_a,
        urgency="flash",
        kind="test",
        subject_key=key,
        title="Collision in the strait",
        body="Two vessels; one burning.",
    )


def test_phone_kinds_are_offered_only_with_a_configured_provider(
    region, api_client, settings, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(region.operator_a)
    settings.SMS_PROVIDER_ACCOUNT = ""
    refused = api_client.post(URL, {"kind": "sms", "address": OP_A}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "unknown_contact_kind"
    assert refused.json()["details"]["offered"] == ["email"]


def test_sms_and_voice_numbers_are_verified_by_the_code_they_are_sent(
    region, api_client, sms_provider, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(region.operator_a)
    bad = api_client.post(URL, {"kind": "sms", "address": "0812345678"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_address"
    assert "E.164" in bad.json()["message"]
    invalid = api_client.post(URL, {"kind": "voice", "address": "+1555"}, format="json")
    assert invalid.status_code == 400 and invalid.json()["code"] == "invalid_address"

    with django_capture_on_commit_callbacks(execute=True):
        sms = api_client.post(URL, {"kind": "sms", "address": "+66 81 234 5678"}, format="json")
    assert sms.status_code == 201, sms.json()
    assert sms.json()["address"] == OP_A and sms.json()["is_verified"] is False
    [text] = sms_provider.messages(to=OP_A)
    assert text.form["From"] == sms_provider.FROM
    code = re.search(r"code is (\d{6})", text.body).group(1)
    ok = api_client.post(f"{URL}{sms.json()['id']}/verify/", {"code": code}, format="json")
    assert ok.status_code == 200 and ok.json()["is_verified"] is True

    with django_capture_on_commit_callbacks(execute=True):
        voice = api_client.post(URL, {"kind": "voice", "address": OP_A}, format="json")
    assert voice.status_code == 201
    [call] = sms_provider.calls(to=OP_A)  # the code is read out, digit by digit
    assert call.form["Twiml"].startswith("<Response><Say")
    digits = re.search(r"code is ([\d, ]+)\.", call.body).group(1).replace(", ", "")
    ok = api_client.post(f"{URL}{voice.json()['id']}/verify/", {"code": digits}, format="json")
    assert ok.status_code == 200 and ok.json()["is_verified"] is True


def test_flash_texts_at_once_and_calls_after_the_delay(region, sms_provider, smtp, fire):
    verified_phone(region.operator_a, OP_A)
    verified_phone(region.operator_a, OP_A, kind="voice", position=1)
    verified_email(region.operator_a, position=2)
    verified_email(region.supervisor_a)  # e-mail only: one e-mail, no SMS or call steps
    page = flash(region)
    steps = sorted(page.attempts.values_list("recipient__user__username", "kind", "delay_seconds"))
    assert steps == [
        ("op-a", "email", 0),
        ("op-a", "sms", 0),
        ("op-a", "voice", 120),
        ("sup-a", "email", 0),
    ]
    fire()
    [text] = sms_provider.messages(to=OP_A)
    recipient = page.recipients.get(user=region.operator_a)
    assert text.body.startswith("[FLASH] Collision in the strait - desk AAA-DESK.")
    assert f"Reply {recipient.reply_code} to acknowledge" in text.body and "/ack/" in text.body
    assert text.form["StatusCallback"].endswith("/api/v1/paging/sms/status/")
    sms = page.attempts.get(kind="sms")
    assert sms.state == "sent" and sms.provider_id == text.sid
    assert [(t.try_no, t.status_code, t.outcome) for t in sms.tries_log.all()] == [(1, 201, "sent")]
    assert sms_provider.calls() == [] and len(smtp.inbox.messages) == 2

    voice = page.attempts.get(kind="voice")
    assert voice.state == "queued"
    assert voice.due_at >= sms.due_at + timedelta(seconds=119)
    make_due(voice)  # two minutes pass, nobody acknowledged
    fire()
    [call] = sms_provider.calls(to=OP_A)
    assert "Collision in the strait" in call.form["Twiml"]
    assert " ".join(recipient.reply_code) in call.form["Twiml"]
    voice.refresh_from_db()
    assert voice.state == "sent" and voice.provider_id.startswith("CA")


def test_acknowledged_before_the_delay_no_call_is_placed(region, sms_provider, fire):
    verified_phone(region.operator_a, OP_A)
    verified_phone(region.operator_a, OP_A, kind="voice", position=1)
    page = flash(region)
    fire()
    assert len(sms_provider.messages(to=OP_A)) == 1
    acknowledge_page(by=region.supervisor_a, page=page)
    voice = page.attempts.get(kind="voice")
    assert voice.state == "cancelled"
    assert not Deadline.objects.filter(
        kind=ATTEMPT_KIND, subject_key=voice.deadline_subject, state="pending"
    ).exists()
    Deadline.objects.filter(kind=ATTEMPT_KIND).update(due_at=timezone.now())
    fire()
    assert sms_provider.calls() == []


def test_provider_5xx_is_retried_then_fails_over_to_the_next_method(
    region, sms_provider, smtp, fire, settings, api_client
):
    settings.PAGING_MAX_TRIES = 2
    verified_phone(region.operator_a, OP_A)
    verified_email(region.operator_a, position=1)
    NotificationRule.objects.create(user=region.operator_a, urgency="flash", kind="sms")
    sms_provider.fail_next(500, 503)
    page = flash(region)
    fire()
    sms = page.attempts.get(kind="sms")
    assert sms.state == "queued" and sms.tries == 1
    assert "the SMS provider answered 500" in sms.last_error
    make_due(sms)  # the backoff passes
    fire()
    sms.refresh_from_db()
    assert sms.state == "failed" and sms.failed_reason == "gave up after 2 tries"
    email = page.attempts.get(kind="email")  # failed over: due at once
    assert email.due_at <= timezone.now()
    fire()
    email.refresh_from_db()
    assert email.state == "sent" and smtp.inbox.to("op-a@example.org")
    assert sms_provider.messages() == []

    api_client.force_authenticate(region.operator_a)
    [shown] = [a for a in api_client.get(f"/api/v1/pages/{page.pk}/").json()["attempts"]
               if a["kind"] == "sms"]  # fmt: skip
    assert [(t["try_no"], t["status_code"], t["outcome"]) for t in shown["log"]] == [
        (1, 500, "retry"),
        (2, 503, "failed"),
    ]


def test_a_refused_number_fails_over_at_once_and_brings_the_call_forward(
    region, sms_provider, fire
):
    verified_phone(region.operator_a, OP_A)
    verified_phone(region.operator_a, OP_A, kind="voice", position=1)
    sms_provider.fail_next(400)
    page = flash(region)
    fire()
    sms = page.attempts.get(kind="sms")
    assert sms.state == "failed" and "answered 400" in sms.failed_reason
    assert sms.tries_log.get().status_code == 400
    fire()  # the call was due in two minutes: failover makes it now
    assert len(sms_provider.calls(to=OP_A)) == 1
    assert page.attempts.get(kind="voice").state == "sent"


def test_provider_unreachable_is_retried(region, sms_provider, fire, settings):
    verified_phone(region.operator_a, OP_A)
    settings.SMS_PROVIDER_URL = "http://127.0.0.1:1"
    page = flash(region)
    fire()
    sms = page.attempts.get(kind="sms")
    assert sms.state == "queued" and "could not reach the SMS provider" in sms.last_error
    assert sms.tries_log.get().status_code is None


FORM = "application/x-www-form-urlencoded"  # how the provider posts


def provider_post(client, path: str, params: dict, signature: str):
    return client.post(
        path, urlencode(params), content_type=FORM, HTTP_X_TWILIO_SIGNATURE=signature
    )


def _post_signed(client, path: str, params: dict, token: str, base="http://127.0.0.1:8000"):
    return provider_post(client, path, params, twilio_signature(token, base + path, params))


def test_delivery_receipts_are_recorded(region, sms_provider, fire, client):
    verified_phone(region.operator_a, OP_A)
    verified_phone(region.supervisor_a, SUP_A)
    page = flash(region)
    fire()
    status_path = "/api/v1/paging/sms/status/"
    op, sup = (
        page.attempts.get(recipient__user=u) for u in (region.operator_a, region.supervisor_a)
    )
    delivered = {"MessageSid": op.provider_id, "MessageStatus": "delivered"}
    forged = provider_post(client, status_path, delivered, "AAAA")
    assert forged.status_code == 403 and forged.json()["code"] == "bad_signature"
    assert _post_signed(client, status_path, delivered, sms_provider.TOKEN).status_code == 204
    op.refresh_from_db()
    assert op.state == "delivered" and op.provider_status == "delivered" and op.delivered_at

    lost = {"MessageSid": sup.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert _post_signed(client, status_path, lost, sms_provider.TOKEN).status_code == 204
    sup.refresh_from_db()
    assert sup.state == "failed" and "30003" in sup.failed_reason
    assert list(sup.tries_log.values_list("outcome", flat=True)) == ["sent", "receipt"]
    assert DeliveryAttempt.objects.filter(page=page).count() == 2  # nothing else to try
