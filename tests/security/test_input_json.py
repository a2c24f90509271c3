"""JSON bodies are bounded in depth and size (issue 14, findings 8 and 6): deeply nested
JSON was a 500, on the unauthenticated token endpoint too."""

import pytest

from crisis.models import Crisis

pytestmark = pytest.mark.django_db


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [33, 5000, 100_000])
@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/crises/"])
def test_deep_nesting_is_a_400_naming_the_problem(region, api_client, path, depth):
    api_client.force_authenticate(region.operator_a)
    body = '{"title": ' + nested(depth) + "}"
    response = api_client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    error = response.json()
    assert error["code"] == "too_deeply_nested", error
    assert error["message"] and "details" in error
    assert Crisis.objects.count() == 0


def test_ordinary_nesting_still_parses(region, api_client):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "op-a", "password": "pw-for-tests"}, format="json"
    )
    assert response.status_code == 200, response.content


def test_a_json_body_over_the_limit_is_413(region, api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    api_client.force_authenticate(region.operator_a)
    body = '{"title": "' + "x" * 2000 + '"}'
    response = api_client.post("/api/v1/crises/", data=body, content_type="application/json")
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "too_large"
