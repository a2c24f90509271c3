"""A service's refusal reads in the person's language, on the console and over the API;
its machine code stays the same in every language (core/errors.py, docs/console.md,
"Languages")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from paging.services.contacts import add_contact_method

pytestmark = pytest.mark.django_db

URL = "/api/v1/contact-methods/"
EN = "You already have this contact method."
TH = "คุณมีช่องทางติดต่อนี้อยู่แล้ว"
VI = "Bạn đã có phương thức liên lạc này."


@pytest.fixture
def has_a_method(region):
    add_contact_method(user=region.operator_a, kind="email", address="me@example.org")
    return region.operator_a


def _add_again(client, **headers):
    return client.post(
        URL, {"kind": "email", "address": "me@example.org"}, format="json", **headers
    )


def test_a_service_refusal_on_the_console_in_thai(client, has_a_method):
    client.force_login(has_a_method)
    client.post(reverse("console:switch-language"), {"language": "th", "next": "/"})
    response = client.post(
        reverse("console:contact-methods"),
        {"kind": "email", "address": "me@example.org", "label": ""},
        follow=True,
    )
    page = response.content.decode()
    assert TH in page and EN not in page


def test_a_service_refusal_over_the_api_follows_accept_language_with_the_same_code(
    api_client, has_a_method
):
    api_client.force_authenticate(has_a_method)
    english = _add_again(api_client)
    thai = _add_again(api_client, HTTP_ACCEPT_LANGUAGE="th")
    assert english.status_code == thai.status_code == 409
    assert english.json()["message"] == EN
    assert thai.json()["message"] == TH
    assert english.json()["code"] == thai.json()["code"] == "duplicate"
    # A serializer's own validation message too.
    refused = api_client.post(
        "/api/v1/channels/", {"kind": "crisis_room", "desks": []}, format="json",
        HTTP_ACCEPT_LANGUAGE="th",
    )  # fmt: skip
    assert refused.status_code == 400, refused.json()
    assert refused.json()["code"] == "invalid"
    assert "ห้องวิกฤต" in refused.json()["message"], refused.json()


def test_the_persons_remembered_language_wins_over_the_browsers_on_the_api(client, has_a_method):
    client.force_login(has_a_method)
    client.post(reverse("console:switch-language"), {"language": "vi", "next": "/"})
    response = client.post(
        URL,
        {"kind": "email", "address": "me@example.org"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 409
    assert response.json() == {"code": "duplicate", "message": VI, "details": {}}
