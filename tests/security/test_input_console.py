"""Console actions by a person on no desk are refused with a reason, not a 500
(issue 14, finding 8)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crisis.models import Crisis, TimelineEntry
from humanitarian.models import AssistanceRequest, ImportJob
from tests.factories import make_person
from tests.humanitarian.conftest import HXL_FILE, make_crisis, make_request

pytestmark = pytest.mark.django_db


def written():
    return (
        Crisis.objects.count(),
        TimelineEntry.objects.count(),
        AssistanceRequest.objects.count(),
        ImportJob.objects.count(),
    )


@pytest.mark.parametrize("superuser", [False, True], ids=["nobody", "superuser"])
def test_a_person_on_no_desk_gets_a_reason(region, client, superuser):
    crisis = make_crisis(region)
    req = make_request(region, crisis)
    person = make_person(None, username="deskless", is_superuser=superuser, is_staff=superuser)
    client.force_login(person)
    before = written()
    posts = [
        ("/crises/new/", {"category": "maritime", "title": "T", "severity": "3",
                          "affected_states": ["AAA"]}),
        (f"/crises/{crisis.pk}/acknowledge/", {}),
        (f"/crises/{crisis.pk}/transition/", {"to_status": "active"}),
        (f"/aid/{crisis.pk}/requests/", {"sector": "shelter", "item": "family_tent",
                                         "quantity": "5", "needed_by": "2030-01-01T00:00"}),
        (f"/aid/{crisis.pk}/import/", {"file": SimpleUploadedFile("d.csv", HXL_FILE.encode())}),
        (f"/aid/requests/{req.pk}/pledge/", {"quantity": "5"}),
    ]  # fmt: skip
    for path, data in posts:
        response = client.post(path, data)
        assert response.status_code in (200, 302, 403, 404), (path, response.status_code)
        if response.status_code == 302:
            page = client.get(response["Location"])
            assert page.status_code in (200, 404), path
    assert written() == before
