"""The roster, contact-method, webhook and invitation pages through Django's test
client: who sees which forms, refusals as messages, nothing written on refusal."""

import pytest
from django.urls import reverse

from paging.models import DeskWebhook
from rosters.models import Override, Roster, Shift

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_roster_page_offers_forms_to_supervisors_only(client, region):
    client.force_login(region.operator_a)
    page = client.get(reverse("console:roster")).content.decode()
    assert 'id="add-shift"' not in page and 'id="add-override"' not in page
    assert "waiting for the desk's supervisor to set it up" in page
    # An operator's post is refused by the service, and writes nothing.
    response = client.post(
        reverse("console:roster-add-shift"),
        {"person": "op-a", "starts": "2030-01-06T08:00", "duration_minutes": "60"},
        follow=True,
    )
    assert "supervisors" in " ".join(_messages(response))
    assert not Shift.objects.exists()

    client.force_login(region.supervisor_a)
    page = client.get(reverse("console:roster")).content.decode()
    assert 'id="add-shift"' in page and 'id="add-override"' in page


def test_bad_roster_input_is_a_message_not_a_500(client, region):
    client.force_login(region.supervisor_a)
    for data in (
        {"person": "op-a", "starts": "soon", "duration_minutes": "60"},
        {"person": "op-a", "starts": "2030-01-06T08:00", "duration_minutes": "x"},
        {"person": "op-c", "starts": "2030-01-06T08:00", "duration_minutes": "60"},
        {"person": "op-a", "starts": "2030-01-06T08:00", "duration_minutes": "60", "repeat": "?"},
    ):
        response = client.post(reverse("console:roster-add-shift"), data, follow=True)
        assert response.status_code == 200 and _messages(response), data
    response = client.post(
        reverse("console:roster-add-override"),
        {"starts": "2030-01-07T08:00", "ends": "2030-01-06T08:00"},
        follow=True,
    )
    assert response.status_code == 200 and _messages(response)
    assert not Shift.objects.exists() and not Override.objects.exists()


def test_webhooks_are_managed_by_supervisors_and_hidden_from_others(client, region):
    client.force_login(region.supervisor_a)
    response = client.post(
        reverse("console:webhooks"),
        {"desk": region.desk_a.pk, "url": "https://a.example.org/hook", "urgencies": ["flash"]},
    )
    hook = DeskWebhook.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "console:webhook", args=[hook.pk]
    )
    # Another desk's supervisor, and the desk's operator, get the 404 page for it.
    for person in (region.supervisor_b, region.operator_a):
        client.force_login(person)
        assert client.get(reverse("console:webhook", args=[hook.pk])).status_code == 404
        response = client.post(reverse("console:webhook-remove", args=[hook.pk]))
        assert response.status_code == 404
    # An operator naming their desk in a post is refused: no desk of theirs to manage.
    response = client.post(
        reverse("console:webhooks"), {"desk": region.desk_a.pk, "url": "https://x.example.org/"}
    )
    assert DeskWebhook.objects.count() == 1


def test_a_bad_webhook_address_is_a_message(client, region):
    client.force_login(region.supervisor_a)
    response = client.post(
        reverse("console:webhooks"), {"desk": region.desk_a.pk, "url": "not a url"}, follow=True
    )
    assert response.status_code == 200 and _messages(response)
    assert not DeskWebhook.objects.exists()


def test_contact_methods_of_others_are_404(client, region):
    from paging.services.contacts import add_contact_method

    method = add_contact_method(user=region.operator_b, kind="email", address="b@example.org")
    client.force_login(region.operator_a)
    assert method.address not in client.get(reverse("console:contact-methods")).content.decode()
    response = client.post(reverse("console:contact-method-remove", args=[method.pk]), follow=True)
    assert "No such contact method" in " ".join(_messages(response))
    method.refresh_from_db()


def test_the_crisis_actions_panel_offers_only_what_the_desk_may_do(client, region):
    from crisis.models import EscalationState, SituationUpdate
    from tests.crisis.factories import AFFECTED, make_crisis, make_version

    crisis = make_crisis(region, make_version(name="Maritime protocol", levels=[AFFECTED]))
    assert crisis.escalation_state == EscalationState.ESCALATING
    page_url = reverse("console:crisis", args=[crisis.pk])

    client.force_login(region.operator_a)
    page = client.get(page_url).content.decode()
    assert 'id="post-update"' in page and 'id="change-severity"' in page
    assert 'id="stop-escalation"' not in page and 'id="report-progress"' not in page
    # Stopping anyway is refused by the service, shown as a message; nothing changes.
    response = client.post(
        reverse("console:crisis-stop", args=[crisis.pk]), {"reason": "x"}, follow=True
    )
    assert "supervisor" in " ".join(_messages(response))
    crisis.refresh_from_db()
    assert crisis.escalation_state == EscalationState.ESCALATING
    # An empty update is refused with the reason.
    response = client.post(reverse("console:crisis-update", args=[crisis.pk]), {}, follow=True)
    assert "Describe the conditions" in " ".join(_messages(response))
    assert not SituationUpdate.objects.exists()

    client.force_login(region.supervisor_a)
    assert 'id="stop-escalation"' in client.get(page_url).content.decode()
    # A desk of a state that is no party sees no panel.
    client.force_login(region.operator_c)
    assert 'id="post-update"' not in client.get(page_url).content.decode()


WEEKDAY_SHIFT_ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//desk tool//EN\r\nBEGIN:VEVENT\r\n"
    "UID:day-shift-1\r\nSUMMARY:op-a\r\nDTSTART;TZID=Asia/Bangkok:20300107T080000\r\n"
    "DTEND;TZID=Asia/Bangkok:20300107T180000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _ics(text: str, name: str = "roster.ics"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode(), content_type="text/calendar")


def test_a_calendar_file_is_imported_through_the_console_by_supervisors_only(client, region):
    url = reverse("console:roster-import")
    client.force_login(region.operator_a)
    assert 'id="import-calendar"' not in client.get(reverse("console:roster")).content.decode()
    refused = client.post(url, {"ics": _ics(WEEKDAY_SHIFT_ICS)}, follow=True)
    assert "supervisors" in " ".join(_messages(refused))
    assert not Shift.objects.exists()

    client.force_login(region.supervisor_a)
    page = client.get(reverse("console:roster")).content.decode()
    assert 'id="import-calendar"' in page
    response = client.post(url, {"ics": _ics(WEEKDAY_SHIFT_ICS)}, follow=True)
    assert _messages(response) == ["Calendar imported: 1 shifts and 0 covers added, 0 removed."]
    shift = Shift.objects.get()
    assert (shift.person.username, str(shift.start_time), shift.duration_minutes) == (
        "op-a",
        "08:00:00",
        600,
    )
    assert shift.rrule == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    # The page links the roster's own calendar, which carries the imported shift.
    assert f'href="/api/v1/rosters/{shift.roster_id}/calendar.ics"' in response.content.decode()
    exported = client.get(f"/api/v1/rosters/{shift.roster_id}/calendar.ics")
    assert exported.status_code == 200 and b"RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR" in (
        exported.content
    )

    # Replace: the roster's shifts go, the file's come in.
    replaced = client.post(url, {"ics": _ics(WEEKDAY_SHIFT_ICS), "replace": "on"}, follow=True)
    assert _messages(replaced) == ["Calendar imported: 1 shifts and 0 covers added, 1 removed."]
    assert Shift.objects.count() == 1


def test_a_bad_calendar_file_is_a_message_in_the_readers_language(client, region):
    client.force_login(region.supervisor_a)
    url = reverse("console:roster-import")
    nothing = client.post(url, {}, follow=True)
    assert _messages(nothing) == ["Choose a calendar file (.ics) to import."]
    client.post(reverse("console:switch-language"), {"language": "th", "next": "/roster/"})
    bad = client.post(url, {"ics": _ics("hello")}, follow=True)
    assert bad.status_code == 200
    assert _messages(bad) == ["ics: ไม่ใช่ไฟล์ iCalendar (ต้องขึ้นต้นด้วย BEGIN:VCALENDAR)"]
    # All or nothing: a file whose second event names someone not on the desk adds
    # nothing (not even the roster the import would have started).
    second = WEEKDAY_SHIFT_ICS.split("BEGIN:VEVENT")[1].split("END:VCALENDAR")[0]
    second = second.replace("op-a", "op-c").replace("day-shift-1", "day-shift-2")
    two = WEEKDAY_SHIFT_ICS.replace("END:VCALENDAR", "BEGIN:VEVENT" + second + "END:VCALENDAR")
    assert two.count("BEGIN:VEVENT") == 2
    refused = client.post(url, {"ics": _ics(two)}, follow=True)
    assert "day-shift-2" in " ".join(_messages(refused))
    assert not Shift.objects.exists() and not Roster.objects.exists()
