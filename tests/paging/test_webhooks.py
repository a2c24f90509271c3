"""Desk webhooks: managed by the desk's supervisors and coordinators over the API, posted
to a real HTTP server that verifies each post with the ``standardwebhooks`` library,
retried on 500 until a 2xx, every try in the log."""

from __future__ import annotations

import pytest

from paging.models import DeskWebhook
from paging.services import acknowledge_page
from tests.paging.conftest import make_due, verified_email
from tests.paging.test_sms_voice import flash
from tests.support.http_providers import WebhookReceiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.PAGING_WEBHOOK_REQUIRE_HTTPS = False  # the receiver is plain http on localhost
    server = WebhookReceiver().start()
    try:
        yield server
    finally:
        server.stop()


def add_webhook(api_client, region, url, **extra):
    api_client.force_authenticate(region.supervisor_a)
    return api_client.post(
        f"/api/v1/desks/{region.desk_a.pk}/webhooks/", {"url": url, **extra}, format="json"
    )


def test_supervisors_and_coordinators_manage_webhooks_and_nobody_else(region, api_client, receiver):
    created = add_webhook(api_client, region, receiver.url + "/hook", urgencies=["flash"])
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["desk"] == "AAA-DESK"
    assert body["urgencies"] == ["flash"] and body["is_active"] is True
    hook_id = body["id"]
    listed = api_client.get(f"/api/v1/desks/{region.desk_a.pk}/webhooks/").json()["results"]
    assert [h["id"] for h in listed] == [hook_id] and "secret" not in listed[0]  # shown once

    for who, status in (("operator_a", 403), ("supervisor_b", 404), ("auditor", 404)):
        api_client.force_authenticate(getattr(region, who))
        desk_url = f"/api/v1/desks/{region.desk_a.pk}/webhooks/"
        assert api_client.get(desk_url).status_code == status, who
        refused = api_client.post(desk_url, {"url": "https://x.example/"}, format="json")
        assert refused.status_code == status and refused.json()["code"], who
        assert api_client.patch(f"/api/v1/webhooks/{hook_id}/", {"is_active": False},
                                format="json").status_code == 404  # fmt: skip
        assert api_client.delete(f"/api/v1/webhooks/{hook_id}/").status_code == 404
    api_client.force_authenticate(None)
    assert api_client.get(f"/api/v1/webhooks/{hook_id}/").status_code in (401, 403)

    api_client.force_authenticate(region.coordinator)
    changed = api_client.patch(
        f"/api/v1/webhooks/{hook_id}/", {"urgencies": ["flash", "escalation"]}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["urgencies"] == ["flash", "escalation"]
    rotated = api_client.post(f"/api/v1/webhooks/{hook_id}/rotate-secret/")
    assert rotated.status_code == 200 and rotated.json()["secret"] != body["secret"]
    assert DeskWebhook.objects.get(pk=hook_id).secret == rotated.json()["secret"]


def test_bad_webhook_input_gets_a_clear_answer(region, api_client, settings):
    settings.PAGING_WEBHOOK_REQUIRE_HTTPS = True
    plain = add_webhook(api_client, region, "http://desk-a.example/hook")
    assert plain.status_code == 400 and plain.json()["code"] == "invalid_url"
    assert "https://" in plain.json()["message"]
    junk = add_webhook(api_client, region, "not a url")
    assert junk.status_code == 400 and junk.json()["code"] == "invalid_url"
    urgency = add_webhook(api_client, region, "https://desk-a.example/", urgencies=["loud"])
    assert urgency.status_code == 400 and urgency.json()["code"] == "invalid"
    assert DeskWebhook.objects.count() == 0


def test_posts_verify_and_are_retried_on_500_until_a_2xx(region, api_client, receiver, smtp, fire):
    secret = add_webhook(api_client, region, receiver.url + "/hook").json()["secret"]
    receiver.secret = secret
    verified_email(region.operator_a)
    receiver.answer(500, 500)
    page = flash(region)
    fire()
    attempt = page.attempts.get(kind="webhook")
    assert attempt.state == "queued" and attempt.tries == 1
    make_due(attempt)
    fire()
    make_due(attempt)
    fire()
    attempt.refresh_from_db()
    assert attempt.state == "sent" and attempt.tries == 3
    assert [p.status for p in receiver.posts] == [500, 500, 204]
    assert all(p.verified is not None for p in receiver.posts), [p.error for p in receiver.posts]
    assert {p.headers["webhook-id"] for p in receiver.posts} == {attempt.message_id}
    event = receiver.posts[-1].verified
    assert event["type"] == "page.opened"
    assert event["data"]["desk"] == "AAA-DESK" and event["data"]["urgency"] == "flash"
    assert event["data"]["title"] == "Collision in the strait"

    log = api_client.get(f"/api/v1/webhooks/{attempt.webhook_id}/deliveries/").json()
    [delivery] = log["results"]
    assert delivery["event"] == "page.opened" and delivery["state"] == "sent"
    assert [(t["try_no"], t["status_code"], t["outcome"]) for t in delivery["log"]] == [
        (1, 500, "retry"),
        (2, 500, "retry"),
        (3, 204, "sent"),
    ]
    assert all(t["at"] and t["duration_ms"] is not None for t in delivery["log"])

    # The desk's system also hears that the page ended (acknowledging does not cancel it).
    acknowledge_page(by=region.operator_a, page=page)
    fire()
    ended = receiver.posts[-1].verified
    assert ended["type"] == "page.acknowledged"
    assert ended["data"]["acknowledged_by"] == "op-a"


def test_a_forged_or_stale_post_fails_verification_on_the_receiving_side(region, receiver):
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    from paging.transports.webhook import signed_headers

    hook_secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers = signed_headers(secret=hook_secret, message_id="msg_1", body='{"a":1}')
    assert Webhook(hook_secret).verify('{"a":1}', headers) == {"a": 1}
    with pytest.raises(WebhookVerificationError):
        Webhook(hook_secret).verify('{"a":2}', headers)
    stale = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 3600)}
    with pytest.raises(WebhookVerificationError):
        Webhook(hook_secret).verify('{"a":1}', stale)


def test_webhooks_only_get_the_urgencies_they_asked_for(region, api_client, receiver, fire):
    add_webhook(api_client, region, receiver.url, urgencies=["escalation"])
    page = flash(region)
    assert not page.attempts.filter(kind="webhook").exists()
    DeskWebhook.objects.update(urgencies=[], is_active=False)
    assert not flash(region, key="t:2").attempts.filter(kind="webhook").exists()
