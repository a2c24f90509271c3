"""Line checks are answerable everywhere one arrives, and a desk that misses one is paged
(urgency flash) until it answers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crisis.models import Notification
from deadlines.models import Deadline
from deadlines.services import fire_deadline
from hotline.models import LineCheck, Receipt
from hotline.services.line_checks import LINE_CHECK_KIND, line_check_subject, send_line_check
from paging.models import Page
from paging.services import acknowledge_page
from tests.factories import make_person

pytestmark = pytest.mark.django_db


def fail(check: LineCheck) -> None:
    deadline = Deadline.objects.get(
        kind=LINE_CHECK_KIND, subject_key=line_check_subject(check.pk), state="pending"
    )
    Deadline.objects.filter(pk=deadline.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    assert fire_deadline(deadline.pk, token=str(deadline.token)) is not False
    check.refresh_from_db()
    assert check.status == "failed"


def page_of(check, desk) -> Page:
    return Page.objects.get(subject_key=f"linecheck:{check.pk}:desk:{desk.pk}")


def test_a_desk_that_misses_a_line_check_is_paged_until_it_answers(region, line_ab, api_client):
    check = send_line_check(channel_id=line_ab.pk, timeout_seconds=60)
    api_client.force_authenticate(region.operator_a)
    answered = api_client.post(
        f"/api/v1/channels/{line_ab.pk}/line-checks/{check.pk}/answer/", {}, format="json"
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["acknowledged_by"] == "op-a"
    fail(check)  # B did not answer in time

    assert check.missing_desk_ids == [region.desk_b.pk]
    assert not Page.objects.filter(desk=region.desk_a, subject_key__startswith="linecheck").exists()
    page = page_of(check, region.desk_b)
    assert page.urgency == "flash" and page.state == "open"
    assert "was not answered by" in page.body and "UTC" in page.body and "Asia/Manila" in page.body
    told = Notification.objects.get(desk=region.desk_b, kind="hotline.line_check_failed")
    assert told.link_path == f"/lines/{line_ab.pk}/" and told.page_subject == page.subject_key

    # B answers late, over the API: its page ends (acknowledged by the answering person).
    api_client.force_authenticate(region.operator_b)
    late = api_client.post(
        f"/api/v1/channels/{line_ab.pk}/line-checks/{check.pk}/answer/", {}, format="json"
    )
    assert late.status_code == 200, late.content
    page.refresh_from_db()
    assert page.state == "acknowledged" and page.acknowledged_by == region.operator_b
    assert not page.attempts.filter(state="queued").exists()
    check.refresh_from_db()
    assert check.status == "failed"  # late is late


def test_acknowledging_the_page_answers_the_line_check(region, line_ab):
    check = send_line_check(channel_id=line_ab.pk, timeout_seconds=60)
    fail(check)
    page = page_of(check, region.desk_b)
    acknowledge_page(by=region.supervisor_b, page=page)
    receipt = Receipt.objects.get(message=check.message, desk=region.desk_b)
    assert receipt.acknowledged_at is not None and receipt.acknowledged_by == region.supervisor_b
    page.refresh_from_db()
    assert page.state == "acknowledged"


def test_answer_endpoint_refuses_outsiders_and_junk(region, line_ab, api_client):
    check = send_line_check(channel_id=line_ab.pk, timeout_seconds=60)
    url = f"/api/v1/channels/{line_ab.pk}/line-checks/{check.pk}/answer/"
    api_client.force_authenticate(region.operator_c)  # not on the line: hidden = missing
    assert api_client.post(url, {}, format="json").status_code == 404
    api_client.force_authenticate(region.operator_a)
    huge = f"/api/v1/channels/{line_ab.pk}/line-checks/99999999999999999999/answer/"
    assert api_client.post(huge, {}, format="json").status_code == 404
    bad = api_client.post(url, {"desk": "x"}, format="json")
    assert bad.status_code == 400 and "code" in bad.json()
    auditor = make_person(region.desk_a, "auditor", username="aud-a")
    api_client.force_authenticate(auditor)
    refused = api_client.post(url, {}, format="json")
    assert refused.status_code in (403, 404) and "code" in refused.json()
    assert not Receipt.objects.filter(message=check.message, acknowledged_at__isnull=False)


def test_console_offers_the_answer_button_while_the_check_is_open(region, line_ab, client):
    check = send_line_check(channel_id=line_ab.pk, timeout_seconds=60)
    client.force_login(region.operator_a)
    line_url = f"/lines/{line_ab.pk}/"
    page = client.get(line_url).content.decode()
    assert "Answer line check" in page
    answered = client.post(f"/lines/{line_ab.pk}/line-checks/{check.pk}/answer/")
    assert answered.status_code == 302
    assert Receipt.objects.get(message=check.message, desk=region.desk_a).acknowledged_at
    assert "Answer line check" not in client.get(line_url).content.decode()

    auditor = make_person(region.desk_b, "auditor", username="aud-b")
    client.force_login(auditor)  # reads the line, cannot answer: no button
    assert "Answer line check" not in client.get(line_url).content.decode()
    client.force_login(region.operator_b)
    assert "Answer line check" in client.get(line_url).content.decode()
