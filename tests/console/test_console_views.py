"""The console's pages through Django's test client: access, validation, query counts.

The browser tests (tests/browser) cover the live behaviour; these check the edge's rules
quickly: hidden things are 404 pages, refused input writes nothing, lists stay cheap.
"""

import uuid

import pytest
from django.urls import reverse

from core.console.shell import SESSION_DESK_KEY
from crisis.models import Crisis, CrisisStatus
from crisis.services.crises import acknowledge_crisis, report_crisis, transition_crisis
from directory.models import DeskMembership, Role
from hotline.services.channels import set_up_bilateral_channel
from hotline.services.messages import send_message
from tests.crisis.crisis_helpers import make_protocol

pytestmark = pytest.mark.django_db


def _report(region, **extra):
    return report_crisis(
        by=region.operator_a, desk=region.desk_a, category="maritime", title="Ferry aground",
        severity=3, affected_state_codes=["AAA", "BBB"], **extra,
    )  # fmt: skip


def test_pages_need_a_login(client):
    response = client.get(reverse("console:dashboard"))
    assert response.status_code == 302 and response.url.startswith(reverse("console:login"))


def test_hidden_crisis_and_line_are_404_pages_for_state_c(client, region):
    crisis = _report(region)
    line = set_up_bilateral_channel(
        by=region.coordinator, desk_id=region.desk_a.pk, peer_desk_id=region.desk_b.pk
    )
    client.force_login(region.operator_c)
    for url in (
        reverse("console:crisis", args=[crisis.pk]),
        reverse("console:line", args=[line.pk]),
        reverse("console:aid-board", args=[crisis.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Not found (404)" in response.content
    response = client.post(reverse("console:acknowledge-crisis", args=[crisis.pk]))
    assert response.status_code == 404
    assert not crisis.acknowledgements.exists()
    client.force_login(region.operator_b)
    assert client.get(reverse("console:line", args=[line.pk])).status_code == 200


def test_report_form_refuses_bad_input_and_writes_nothing(client, region):
    client.force_login(region.operator_a)
    url = reverse("console:report-crisis")
    response = client.post(url, {"title": "x" * 201, "severity": "9", "latitude": "91"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"category", "title", "severity", "affected_states", "latitude"} <= set(errors)
    assert Crisis.objects.count() == 0

    response = client.post(
        url,
        {"category": "flood", "title": "Flash flood", "severity": "4",
         "affected_states": ["AAA"], "latitude": "13.7", "longitude": "100.5"},
    )  # fmt: skip
    crisis = Crisis.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "console:crisis", args=[crisis.pk]
    )
    assert crisis.reported_by_desk == region.desk_a and crisis.status == CrisisStatus.REPORTED


def test_auditor_cannot_report_the_service_says_why(client, region):
    client.force_login(region.auditor)
    response = client.post(
        reverse("console:report-crisis"),
        {"category": "flood", "title": "T", "severity": "2", "affected_states": ["AAA"]},
    )
    assert response.status_code == 200
    assert "auditor" in str(response.context["form"].non_field_errors())
    assert Crisis.objects.count() == 0


def test_desk_switcher_only_to_my_desks(client, region):
    DeskMembership.objects.create(user=region.operator_a, desk=region.centre, role=Role.AUDITOR)
    client.force_login(region.operator_a)
    response = client.post(reverse("console:switch-desk"), {"desk": region.desk_b.pk})
    assert response.status_code == 400
    assert client.session.get(SESSION_DESK_KEY) is None
    response = client.post(
        reverse("console:switch-desk"), {"desk": region.centre.pk, "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response.url == reverse("console:dashboard")
    assert client.session[SESSION_DESK_KEY] == region.centre.pk
    assert client.get(reverse("console:dashboard")).context["desk"] == region.centre


def test_dashboard_and_lines_stay_cheap(client, region, django_assert_max_num_queries):
    make_protocol("maritime")
    for n in range(4):
        crisis = _report(region)
        transition_crisis(
            by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="active"
        )
        if n % 2:
            acknowledge_crisis(by=region.operator_b, desk=region.desk_b, crisis=crisis)
    line = set_up_bilateral_channel(
        by=region.coordinator, desk_id=region.desk_a.pk, peer_desk_id=region.desk_b.pk
    )
    for n, priority in enumerate(["routine", "flash", "routine"]):
        send_message(
            by=region.operator_a, channel_id=line.pk, body=f"m{n}", client_msg_id=uuid.uuid4(),
            priority=priority,
        )  # fmt: skip
    client.force_login(region.operator_b)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("console:dashboard"))
    assert len(response.context["crises"]) == 4
    assert len(response.context["awaiting"]) == 2
    assert b"3 unread" in response.content and b"1 flash to acknowledge" in response.content
    # The lines page also offers what a desk may start: a line to propose (the national
    # desks) and a room to open (open crises without one and their desks, for all at once).
    with django_assert_max_num_queries(14):
        response = client.get(reverse("console:lines"))
    assert response.context["lines"][0].unread == 3
    assert response.context["lines"][0].flash_waiting == 1


def test_unread_counts_the_shown_conversation_and_flash_waits_however_old(client, region):
    """A line's unread count reads at most the conversation its page shows (the last
    CONVERSATION_LENGTH messages), so a long line costs no more than a short one; a
    flash message waiting for its acknowledgement counts however far back it is."""
    from django.db.models import F

    from hotline.console.selectors import CONVERSATION_LENGTH
    from hotline.models import HotlineChannel, Message

    line = set_up_bilateral_channel(
        by=region.coordinator, desk_id=region.desk_a.pk, peer_desk_id=region.desk_b.pk
    )
    for priority in ("flash", "routine"):  # both scroll out of the shown conversation
        send_message(
            by=region.operator_a, channel_id=line.pk, body=priority, client_msg_id=uuid.uuid4(),
            priority=priority,
        )  # fmt: skip
    later = CONVERSATION_LENGTH + 5
    Message.objects.bulk_create(
        Message(channel=line, seq=2 + n, sender_desk=region.desk_a, body=f"later {n}",
                client_msg_id=uuid.uuid4())
        for n in range(1, later + 1)
    )  # fmt: skip
    HotlineChannel.objects.filter(pk=line.pk).update(last_seq=F("last_seq") + later)
    client.force_login(region.operator_b)
    row = client.get(reverse("console:lines")).context["lines"][0]
    assert (row.unread, row.flash_waiting) == (CONVERSATION_LENGTH, 1)


def test_crisis_page_and_aid_board_stay_cheap(client, region, django_assert_max_num_queries):
    make_protocol("maritime")
    crisis = _report(region)
    transition_crisis(by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="active")
    acknowledge_crisis(by=region.operator_b, desk=region.desk_b, crisis=crisis)
    client.force_login(region.operator_b)
    # The page's panels (actions, aid, record, review, the crisis room), the exercise
    # banner and the attention list each read once; nothing grows with the crisis's size.
    with django_assert_max_num_queries(30):
        response = client.get(reverse("console:crisis", args=[crisis.pk]))
    assert response.status_code == 200 and response.context["has_acked"]
    assert b"BBB-DESK acknowledged level 1" in response.content
    with django_assert_max_num_queries(20):
        assert client.get(reverse("console:aid-board", args=[crisis.pk])).status_code == 200
