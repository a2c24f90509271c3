"""The Idempotency-Key header on crisis actions: a retried request acts once and gets the
first answer; the same key for another request is refused; a refusal keeps no key."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from knox.models import AuthToken

from crisis.models import Crisis, SituationUpdate
from idempotency.models import IdempotencyKey
from tests.crisis.factories import report
from tests.support.api import assert_error
from tests.support.concurrency import run_together

pytestmark = pytest.mark.django_db

REPORT = {
    "category": "maritime",
    "title": "Ferry capsized near the maritime border",
    "severity": 4,
    "affected_states": ["AAA", "BBB"],
}


def post(api_client, path, body, key):
    return api_client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retried_situation_update_is_written_once_and_answered_the_same(region, api_client):
    crisis = report(region)
    api_client.force_authenticate(region.operator_a)
    path = f"/api/v1/crises/{crisis.pk}/updates/"
    key = str(uuid.uuid4())
    first = post(api_client, path, {"conditions": "Oil slick 2 km long."}, key)
    again = post(api_client, path, {"conditions": "Oil slick 2 km long."}, key)
    assert first.status_code == again.status_code == 201, again.content
    assert again.json() == first.json()
    assert "Idempotent-Replayed" not in first and again["Idempotent-Replayed"] == "true"
    assert SituationUpdate.objects.filter(crisis=crisis).count() == 1
    assert crisis.timeline.filter(kind="situation_update").count() == 1
    # A new key is a new action.
    post(api_client, path, {"conditions": "Oil slick 2 km long."}, str(uuid.uuid4()))
    assert SituationUpdate.objects.filter(crisis=crisis).count() == 2


def test_a_retried_report_opens_one_crisis(region, api_client):
    api_client.force_authenticate(region.operator_a)
    key = str(uuid.uuid4())
    first = post(api_client, "/api/v1/crises/", REPORT, key)
    again = post(api_client, "/api/v1/crises/", REPORT, key)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Crisis.objects.count() == 1


def test_the_same_key_for_another_request_is_refused(region, api_client):
    crisis = report(region)
    api_client.force_authenticate(region.operator_a)
    key = str(uuid.uuid4())
    path = f"/api/v1/crises/{crisis.pk}/updates/"
    assert post(api_client, path, {"conditions": "First."}, key).status_code == 201
    body = assert_error(
        post(api_client, path, {"conditions": "Second."}, key), 422, "idempotency_key_reused"
    )
    assert body["details"] == {"method": "POST", "path": path}
    other_path = f"/api/v1/crises/{crisis.pk}/severity/"
    assert_error(
        post(api_client, other_path, {"severity": 5, "reason": "Worse."}, key),
        422,
        "idempotency_key_reused",
    )
    assert SituationUpdate.objects.filter(crisis=crisis).count() == 1


def test_keys_belong_to_their_caller(region, api_client):
    """Another person's identical key is their own: it neither replays nor blocks."""
    crisis = report(region)
    path = f"/api/v1/crises/{crisis.pk}/updates/"
    key = "shared-key-1"
    api_client.force_authenticate(region.operator_a)
    mine = post(api_client, path, {"conditions": "Same words."}, key)
    api_client.force_authenticate(region.operator_b)
    theirs = post(api_client, path, {"conditions": "Same words."}, key)
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["id"] != mine.json()["id"]
    assert IdempotencyKey.objects.filter(key=key).count() == 2


def test_a_refused_request_keeps_no_key(region, api_client):
    """A 4xx did nothing: the corrected request with the same key acts."""
    crisis = report(region)
    api_client.force_authenticate(region.operator_a)
    path = f"/api/v1/crises/{crisis.pk}/updates/"
    key = str(uuid.uuid4())
    assert_error(post(api_client, path, {"conditions": "  "}, key), 400)
    assert not IdempotencyKey.objects.filter(key=key).exists()
    assert post(api_client, path, {"conditions": "Now described."}, key).status_code == 201
    assert SituationUpdate.objects.filter(crisis=crisis).count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "two words"])
def test_a_malformed_key_is_a_400(region, api_client, key):
    crisis = report(region)
    api_client.force_authenticate(region.operator_a)
    response = post(api_client, f"/api/v1/crises/{crisis.pk}/updates/", {"conditions": "X"}, key)
    assert_error(response, 400, "bad_idempotency_key")
    assert not SituationUpdate.objects.filter(crisis=crisis).exists()


def test_without_the_header_nothing_changes(region, api_client):
    crisis = report(region)
    api_client.force_authenticate(region.operator_a)
    path = f"/api/v1/crises/{crisis.pk}/updates/"
    for _ in range(2):
        assert api_client.post(path, {"conditions": "X"}, format="json").status_code == 201
    assert SituationUpdate.objects.filter(crisis=crisis).count() == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_retries_at_once_act_once(region):
    """Two web processes get the same retry at the same moment: one acts, the other waits
    for its commit and replays its answer."""
    crisis = report(region)
    token = AuthToken.objects.create(user=region.operator_a)[1]
    path = f"/api/v1/crises/{crisis.pk}/updates/"
    key = str(uuid.uuid4())
    answers = []

    def retry():
        response = Client().post(
            path,
            {"conditions": "Both at once."},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token}",
            HTTP_IDEMPOTENCY_KEY=key,
        )
        answers.append((response.status_code, response.json()["id"]))

    assert run_together(retry, retry) == []
    assert [status for status, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert SituationUpdate.objects.filter(crisis=crisis).count() == 1


def test_the_header_is_documented_on_every_crisis_action(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    for path, verb in [
        ("/api/v1/crises/", "post"),
        ("/api/v1/crises/{id}/updates/", "post"),
        ("/api/v1/crises/{id}/transition/", "post"),
        ("/api/v1/crises/{id}/acknowledge/", "post"),
    ]:
        operation = schema["paths"][path][verb]
        assert "Idempotency-Key" in [p["name"] for p in operation.get("parameters", [])], path
        assert operation["responses"]["422"]["content"]
    updates = schema["paths"]["/api/v1/crises/{id}/updates/"]
    assert "Idempotency-Key" not in [p["name"] for p in updates["get"].get("parameters", [])]
