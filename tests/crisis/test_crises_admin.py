"""The admin shows crises and the timeline; it never edits or deletes them."""

import pytest

from crisis.models import Crisis, TimelineEntry
from tests.crisis.factories import report

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(region, client, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="pw-for-tests")
    client.force_login(root)  # the password path has its own tests (tests/security)
    return client


def test_crisis_and_timeline_are_shown_read_only(region, admin_client_):
    crisis = report(region)
    entry = TimelineEntry.objects.get(crisis=crisis)
    assert admin_client_.get("/admin/crisis/crisis/").status_code == 200
    page = admin_client_.get(f"/admin/crisis/crisis/{crisis.pk}/change/")
    assert page.status_code == 200 and crisis.reference.encode() in page.content
    assert b'name="_save"' not in page.content
    assert admin_client_.get("/admin/crisis/timelineentry/").status_code == 200
    page = admin_client_.get(f"/admin/crisis/timelineentry/{entry.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client_.get("/admin/crisis/capalert/").status_code == 200


def test_no_admin_edit_or_delete(region, admin_client_):
    crisis = report(region)
    entry = TimelineEntry.objects.get(crisis=crisis)
    for url in [
        f"/admin/crisis/timelineentry/{entry.pk}/delete/",
        f"/admin/crisis/crisis/{crisis.pk}/delete/",
        "/admin/crisis/timelineentry/add/",
        "/admin/crisis/crisis/add/",
    ]:
        assert admin_client_.post(url, {"post": "yes"}).status_code == 403, url
    response = admin_client_.post(
        f"/admin/crisis/timelineentry/{entry.pk}/change/", {"kind": "forged"}
    )
    assert response.status_code == 403
    response = admin_client_.post(
        "/admin/crisis/timelineentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert TimelineEntry.objects.filter(pk=entry.pk, kind="reported").exists()
    assert Crisis.objects.filter(pk=crisis.pk).exists()
