"""Acknowledging by SMS reply: the provider's inbound webhook (signed with
``X-Twilio-Signature``) carries the reply code; it acknowledges that page for that person
through the same path as the ack link and stops everyone else's paging at once."""

from __future__ import annotations

import pytest

from crisis.models import EscalationAck, EscalationState
from directory.models import DeskMembership
from paging.models import Page
from paging.services import page_desk
from tests.crisis.factories import make_crisis, make_escalation_protocol
from tests.paging.conftest import verified_phone
from tests.paging.test_sms_voice import OP_A, SUP_A, _post_signed, flash, provider_post

pytestmark = pytest.mark.django_db

INBOUND = "/api/v1/paging/sms/inbound/"


def reply(client, provider, number: str, text: str):
    params = {
        "MessageSid": "SM" + "1" * 32,
        "AccountSid": provider.ACCOUNT,
        "From": number,
        "To": provider.FROM,
        "Body": text,
    }
    return _post_signed(client, INBOUND, params, provider.TOKEN)


def test_reply_code_acknowledges_and_stops_everyone_else(region, sms_provider, fire, client):
    verified_phone(region.operator_a, OP_A)
    verified_phone(region.operator_a, OP_A, kind="voice", position=1)
    verified_phone(region.supervisor_a, SUP_A)
    verified_phone(region.supervisor_a, SUP_A, kind="voice", position=1)
    page = flash(region)
    fire()
    code = page.recipients.get(user=region.supervisor_a).reply_code
    assert f"Reply {code} " in sms_provider.messages(to=SUP_A)[0].body

    answer = reply(client, sms_provider, SUP_A, f" ack {code} ")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/xml")
    assert b"<Response><Message>Acknowledged: Collision in the strait" in answer.content
    page.refresh_from_db()
    assert page.state == "acknowledged" and page.acknowledged_by == region.supervisor_a
    # The calls both were due to get in two minutes are cancelled, at once.
    assert set(page.attempts.filter(kind="voice").values_list("state", flat=True)) == {"cancelled"}

    again = reply(
        client, sms_provider, OP_A, page.recipients.get(user=region.operator_a).reply_code
    )
    assert again.status_code == 200
    assert b"Not acknowledged: This page no longer waits" in again.content
    assert b"acknowledged by sup-a" in again.content
    page.refresh_from_db()
    assert page.acknowledged_by == region.supervisor_a


def test_forged_or_unsigned_replies_are_refused(region, sms_provider, fire, client):
    verified_phone(region.operator_a, OP_A)
    page = flash(region)
    fire()
    code = page.recipients.get(user=region.operator_a).reply_code
    params = {"From": OP_A, "To": sms_provider.FROM, "Body": code}
    forged = provider_post(client, INBOUND, params, "bm90IGEgc2lnbmF0dXJl")
    assert forged.status_code == 403 and forged.json()["code"] == "bad_signature"
    unsigned = client.post(INBOUND, params)
    assert unsigned.status_code in (403, 415)
    wrong_token = _post_signed(client, INBOUND, params, "someone-elses-token")
    assert wrong_token.status_code == 403
    other_url = _post_signed(
        client, INBOUND, params, sms_provider.TOKEN, base="https://evil.example"
    )
    assert other_url.status_code == 403
    page.refresh_from_db()
    assert page.state == "open"


def test_replies_that_name_nothing_get_a_plain_answer(region, sms_provider, fire, client):
    verified_phone(region.operator_a, OP_A)
    page = flash(region)
    fire()
    no_code = reply(client, sms_provider, OP_A, "on my way")
    assert b"Reply with the 4-digit code" in no_code.content
    code = page.recipients.get(user=region.operator_a).reply_code
    wrong = "0000" if code != "0000" else "1111"
    assert b"No page for this number" in reply(client, sms_provider, OP_A, wrong).content
    stranger = reply(client, sms_provider, "+639171234567", code)
    assert b"No page for this number" in stranger.content
    missing = _post_signed(client, INBOUND, {"Body": code}, sms_provider.TOKEN)
    assert missing.status_code == 400 and missing.json()["code"] == "invalid"
    page.refresh_from_db()
    assert page.state == "open"


def test_a_person_who_left_the_desk_cannot_acknowledge_by_reply(region, sms_provider, fire, client):
    verified_phone(region.operator_a, OP_A)
    page = flash(region)
    fire()
    code = page.recipients.get(user=region.operator_a).reply_code
    DeskMembership.objects.filter(user=region.operator_a, desk=region.desk_a).delete()
    answer = reply(client, sms_provider, OP_A, code)
    assert answer.status_code == 200 and b"no longer acts for AAA-DESK" in answer.content
    page.refresh_from_db()
    assert page.state == "open"


def test_reply_acknowledges_a_crisis_level_like_the_link(region, sms_provider, fire, client):
    for person, number in ((region.operator_a, OP_A), (region.supervisor_a, SUP_A)):
        verified_phone(person, number)
    crisis = make_crisis(
        region, make_escalation_protocol(), affected=[region.state_a, region.state_b]
    )
    fire()
    page = Page.objects.get(desk=region.desk_a, subject_key__startswith=f"crisis:{crisis.pk}:")
    code = page.recipients.get(user=region.operator_a).reply_code
    assert b"Acknowledged" in reply(client, sms_provider, OP_A, code).content
    crisis.refresh_from_db()
    assert crisis.escalation_state == EscalationState.ACKNOWLEDGED
    ack = EscalationAck.objects.get(crisis=crisis)
    assert (ack.desk, ack.acknowledged_by) == (region.desk_a, region.operator_a)
    assert not Page.objects.filter(subject_key__startswith=f"crisis:{crisis.pk}:", state="open")


def test_page_desk_gives_each_open_page_of_a_person_its_own_code(region, sms_provider):
    verified_phone(region.operator_a, OP_A)
    codes = set()
    for n in range(30):
        page = page_desk(desk=region.desk_a, urgency="urgent", kind="t", subject_key=f"k:{n}",
                         title="t", body="")  # fmt: skip
        codes.add(page.recipients.get(user=region.operator_a).reply_code)
    assert len(codes) == 30
