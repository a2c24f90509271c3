"""Contact methods over the API: added by their owner, verified with the code that was
e-mailed (through a real SMTP server), never paged before that."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from paging.models import ContactMethod
from paging.services import page_desk

pytestmark = pytest.mark.django_db

URL = "/api/v1/contact-methods/"


def add(api_client, capture, address="me@example.org", **extra):
    with capture(execute=True):
        return api_client.post(URL, {"kind": "email", "address": address, **extra}, format="json")


def code_in(message) -> str:
    return re.search(r"verification code is (\d{6})", message.body).group(1)


def test_add_then_verify_with_the_emailed_code(
    region, api_client, smtp, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(region.operator_a)
    response = add(api_client, django_capture_on_commit_callbacks, label="work")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["is_verified"] is False and body["kind_label"] == "E-mail"
    [message] = smtp.inbox.to("me@example.org")
    assert "op-a" in message.body

    right = code_in(message)
    not_it = f"{(int(right) + 1) % 1_000_000:06d}"  # a code that is surely wrong
    wrong = api_client.post(f"{URL}{body['id']}/verify/", {"code": not_it}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "wrong_code"
    assert wrong.json()["details"]["tries_left"] == 4

    ok = api_client.post(f"{URL}{body['id']}/verify/", {"code": right}, format="json")
    assert ok.status_code == 200 and ok.json()["is_verified"] is True
    listed = api_client.get(URL).json()["results"]
    assert [m["address"] for m in listed] == ["me@example.org"]


def test_expired_or_used_up_code_is_refused(
    region, api_client, smtp, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(region.operator_a)
    method_id = add(api_client, django_capture_on_commit_callbacks).json()["id"]
    code = code_in(smtp.inbox.to("me@example.org")[0])
    ContactMethod.objects.filter(pk=method_id).update(
        code_expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = api_client.post(f"{URL}{method_id}/verify/", {"code": code}, format="json")
    assert expired.status_code == 400 and expired.json()["code"] == "code_expired"

    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post(f"{URL}{method_id}/send-code/").status_code == 200
    code = code_in(smtp.inbox.to("me@example.org")[-1])
    wrong = "111111" if code != "111111" else "222222"
    for _ in range(5):
        assert api_client.post(f"{URL}{method_id}/verify/", {"code": wrong}).status_code == 400
    used_up = api_client.post(f"{URL}{method_id}/verify/", {"code": code}, format="json")
    assert used_up.status_code == 400 and used_up.json()["code"] == "too_many_attempts"
    assert not ContactMethod.objects.get(pk=method_id).is_verified


def test_bad_input_and_other_peoples_methods(
    region, api_client, smtp, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(region.operator_a)
    sms = api_client.post(URL, {"kind": "sms", "address": "+66812345678"}, format="json")
    assert sms.status_code == 400 and sms.json()["code"] == "unknown_contact_kind"
    assert sms.json()["details"]["offered"] == ["email"]
    bad = api_client.post(URL, {"kind": "email", "address": "not an address"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_address"
    assert api_client.post(URL, {"kind": "email"}, format="json").status_code == 400
    assert add(api_client, django_capture_on_commit_callbacks).status_code == 201
    again = add(api_client, django_capture_on_commit_callbacks)
    assert again.status_code == 409

    theirs = ContactMethod.objects.create(user=region.operator_b, kind="email", address="b@x.org")
    api_client.force_authenticate(region.operator_a)
    for response in (
        api_client.get(f"{URL}{theirs.pk}/"),
        api_client.post(f"{URL}{theirs.pk}/verify/", {"code": "123456"}, format="json"),
        api_client.delete(f"{URL}{theirs.pk}/"),
    ):
        assert response.status_code == 404
    api_client.force_authenticate(None)
    assert api_client.get(URL).status_code in (401, 403)


def test_unverified_methods_are_never_paged(region, smtp, django_capture_on_commit_callbacks):
    from deadlines.services import fire_due_deadlines

    ContactMethod.objects.create(user=region.operator_a, kind="email", address="new@x.org")
    page = page_desk(
        desk=region.desk_a,
        urgency="escalation",
        kind="test",
        subject_key="t:unverified",
        title="Test page",
        body="Body",
    )
    with django_capture_on_commit_callbacks(execute=True):
        fire_due_deadlines()
    assert smtp.inbox.count() == 0
    attempt = page.attempts.get(recipient__user=region.operator_a)
    assert attempt.state == "failed"
    assert attempt.failed_reason == "no verified contact method"


def test_demo_gives_every_demo_person_a_verified_address(region):
    from paging.demo import seed

    seed()
    seed()  # idempotent
    method = ContactMethod.objects.get(user=region.operator_a)
    assert method.address == "op-a@example.org" and method.is_verified
    assert ContactMethod.objects.count() == 7  # everyone with a desk
