"""The humanitarian board's edge rules: read-only people get no forms, writes refused by
the services write nothing, hidden records are 404 pages."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from crisis.services.crises import report_crisis, transition_crisis
from humanitarian.models import ImportJob, Pledge
from tests.humanitarian.conftest import make_pledge, make_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def need(region):
    crisis = report_crisis(
        by=region.operator_a, desk=region.desk_a, category="flood", title="Flood", severity=3,
        affected_state_codes=["AAA"],
    )  # fmt: skip
    transition_crisis(by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="active")
    return make_request(region, crisis, quantity=50)


def test_auditor_sees_the_board_without_forms_and_cannot_pledge(client, region, need):
    client.force_login(region.auditor)
    response = client.get(reverse("console:aid-board", args=[need.crisis_id]))
    assert response.status_code == 200
    assert b"Family tent" in response.content
    assert b'name="quantity"' not in response.content and b'id="import"' not in response.content
    response = client.post(reverse("console:aid-pledge", args=[need.pk]), {"quantity": "5"})
    assert response.status_code == 302
    assert Pledge.objects.count() == 0
    assert "auditor" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_requester_accepts_through_the_service_and_bad_input_is_a_message(client, region, need):
    pledge = make_pledge(region, need, quantity=20, by=region.coordinator, desk=region.centre)
    client.force_login(region.operator_a)
    response = client.post(reverse("console:aid-pledge-action", args=[pledge.pk, "confirm"]), {})
    said = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert response.status_code == 302 and "Quantity received must be a whole number" in said
    pledge.refresh_from_db()
    assert pledge.status == "offered"
    response = client.post(reverse("console:aid-pledge-action", args=[pledge.pk, "accept"]))
    assert response.status_code == 302
    pledge.refresh_from_db()
    assert pledge.status == "accepted"
    response = client.post(reverse("console:aid-pledge-action", args=[pledge.pk, "launch"]))
    assert response.status_code == 400


def test_hidden_pledge_and_board_are_404_for_state_c(client, region, need):
    pledge = make_pledge(region, need, quantity=20, by=region.coordinator, desk=region.centre)
    client.force_login(region.operator_c)
    assert client.get(reverse("console:aid-board", args=[need.crisis_id])).status_code == 404
    response = client.post(reverse("console:aid-pledge-action", args=[pledge.pk, "accept"]))
    assert response.status_code == 404
    pledge.refresh_from_db()
    assert pledge.status == "offered"


def test_import_that_is_not_utf8_is_a_message_from_the_service(client, region, need):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(region.operator_a)
    upload = SimpleUploadedFile("dtm.csv", "Pa\xefs,é\n".encode("latin-1"), "text/csv")
    response = client.post(reverse("console:aid-import", args=[need.crisis_id]), {"file": upload})
    assert response.status_code == 302
    said = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "The file is not UTF-8 text." in said
    assert not ImportJob.objects.exists()
