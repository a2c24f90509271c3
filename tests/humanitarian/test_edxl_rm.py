"""EDXL-RM 1.0 in EDXL-DE 1.0: export, import, a round trip per message type, bad input.

No OASIS schema ships in a package we can install, so the documents are checked
structurally against the specification: namespaces, the required elements and their
order, and the values the message types allow.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone
from lxml import etree

from humanitarian import edxl_rm
from humanitarian.models import AssistanceRequest, Pledge, PledgeStatus, ReceivedRMMessage
from humanitarian.services import assistance, edxl
from tests.humanitarian.conftest import API, make_crisis, make_offer, make_pledge, make_request

pytestmark = pytest.mark.django_db

PARTNER = "eoc.partner.example.org"
NS = {"de": edxl_rm.NS_DE, "msg": edxl_rm.NS_MSG, "rm": edxl_rm.NS_RM}
#: The message's top-level elements in the order the specification gives them.
TOP_ORDER = [
    "MessageID",
    "SentDateTime",
    "MessageContentType",
    "MessageDescription",
    "OriginatingMessageID",
    "PrecedingMessageID",
    "IncidentInformation",
    "ContactInformation",
    "ResourceInformation",
]
INFO_ORDER = [
    "ResourceInfoElementID",
    "ResponseInformation",
    "Resource",
    "AssignmentInformation",
    "ScheduleInformation",
]


@pytest.fixture
def crisis(region):
    return make_crisis(region, affected=[region.state_a, region.state_b])


def as_partner(settings, build, record, **changes) -> bytes:
    """The document a partner system would send: built with the partner's sender id."""
    ours = settings.CAP_SENDER
    settings.CAP_SENDER = PARTNER
    try:
        message = dataclasses.replace(build(record), **changes)
    finally:
        settings.CAP_SENDER = ours
    return edxl_rm.envelope(message)


def post_xml(api_client, user, document: bytes, desk: str | None = None):
    api_client.force_authenticate(user)
    url = f"{API}/edxl-rm/" + (f"?desk={desk}" if desk else "")
    return api_client.post(url, data=document, content_type="application/xml")


def check_structure(document: bytes, message_type: str) -> etree._Element:
    """The envelope and the message as EDXL-DE 1.0 and EDXL-RM 1.0 require them."""
    de = etree.fromstring(document)
    assert de.tag == f"{{{edxl_rm.NS_DE}}}EDXLDistribution"
    names = [etree.QName(child).localname for child in de]
    assert names[:6] == [
        "distributionID",
        "senderID",
        "dateTimeSent",
        "distributionStatus",
        "distributionType",
        "combinedConfidentiality",
    ]
    assert de.findtext("de:distributionStatus", namespaces=NS) == "Actual"
    sent = de.findtext("de:dateTimeSent", namespaces=NS)
    assert sent.endswith("+00:00")
    (message,) = de.findall("de:contentObject/de:xmlContent/de:embeddedXMLContent/*", NS)
    assert message.tag == f"{{{edxl_rm.NS_MSG}}}{message_type}"
    top = [etree.QName(child).localname for child in message]
    assert all(etree.QName(child).namespace == edxl_rm.NS_MSG for child in message)
    assert top == [n for n in TOP_ORDER if n in top]
    assert {"MessageID", "SentDateTime", "MessageContentType", "ContactInformation"} <= set(top)
    assert message.findtext("msg:MessageContentType", namespaces=NS) == message_type
    assert message.findtext("msg:ContactInformation/rm:ContactRole", namespaces=NS) == "Sender"
    (info,) = message.findall("msg:ResourceInformation", NS)
    inner = [etree.QName(child).localname for child in info]
    assert all(etree.QName(child).namespace == edxl_rm.NS_RM for child in info)
    assert inner == [n for n in INFO_ORDER if n in inner] and inner[0] == "ResourceInfoElementID"
    return message


def same_message(a: edxl_rm.RMMessage, b: edxl_rm.RMMessage) -> None:
    """Every field survives writing and reading (times to the second)."""
    for f in dataclasses.fields(edxl_rm.RMMessage):
        left, right = getattr(a, f.name), getattr(b, f.name)
        if f.name in ("sent_at", "scheduled_at") and left is not None:
            assert abs(left - right) < timedelta(seconds=1), f.name
        else:
            assert left == right, f.name


# --- round trips, one per message type ------------------------------------------------------


def test_request_resource_round_trip(region, crisis, api_client, settings):
    req = make_request(
        region, crisis, quantity=500, priority="high", location="Harbour school",
        admin1_code="AA-01", notes="Families on the quay since Monday.",
    )  # fmt: skip
    api_client.force_authenticate(region.operator_a)
    response = api_client.get(f"{API}/requests/{req.pk}/edxl-rm.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    message = check_structure(response.content, "RequestResource")
    assert message.findtext("msg:IncidentInformation/rm:IncidentID", namespaces=NS) == (
        crisis.reference
    )
    assert message.findtext("msg:MessageID", namespaces=NS) == (
        f"urn:edxl-rm:{settings.CAP_SENDER}:REQ-{req.pk}:RequestResource"
    )
    same_message(edxl.request_message(req), edxl_rm.parse(response.content))

    # A partner sends the same need for state B: it becomes B's open request, field for field.
    result = post_xml(
        api_client, region.operator_b, as_partner(settings, edxl.request_message, req)
    )
    assert result.status_code == 201, result.content
    copy = AssistanceRequest.objects.get(pk=result.json()["request"])
    assert copy.pk != req.pk and copy.state == region.state_b and copy.status == "open"
    for name in ("crisis", "sector", "item", "unit", "quantity", "priority", "location",
                 "admin1_code", "notes", "needed_by"):  # fmt: skip
        assert getattr(copy, name) == getattr(req, name) or (
            name == "needed_by" and abs(copy.needed_by - req.needed_by) < timedelta(seconds=1)
        ), name


def test_offer_unsolicited_resource_round_trip(region, crisis, api_client, settings):
    offer = make_offer(region, crisis, quantity=250)
    api_client.force_authenticate(region.operator_b)
    response = api_client.get(f"{API}/pledges/{offer.pk}/edxl-rm.xml")
    check_structure(response.content, "OfferUnsolicitedResource")
    same_message(edxl.pledge_message(offer), edxl_rm.parse(response.content))

    document = as_partner(settings, edxl.pledge_message, offer)
    result = post_xml(api_client, region.coordinator, document)
    assert result.status_code == 201, result.content
    copy = Pledge.objects.get(pk=result.json()["pledge"])
    assert copy.is_standalone and copy.pledging_desk == region.centre
    assert (copy.item, copy.quantity, copy.quantity_available) == ("family_tent", 250, 250)


def test_response_to_request_resource_round_trip(region, crisis, api_client, settings):
    req = make_request(region, crisis, quantity=100)
    pledge = make_pledge(region, req, quantity=40, conditions="Landing permit needed.")
    api_client.force_authenticate(region.operator_a)
    response = api_client.get(f"{API}/pledges/{pledge.pk}/edxl-rm.xml")
    message = check_structure(response.content, "ResponseToRequestResource")
    answer = "msg:ResourceInformation/rm:ResponseInformation/rm:ResponseType"
    assert message.findtext(answer, namespaces=NS) == "Provisional"  # offered, not committed
    parsed = edxl_rm.parse(response.content)
    same_message(edxl.pledge_message(pledge), parsed)
    assert parsed.preceding_message_id == edxl_rm.message_id(req.reference, "RequestResource")

    # The partner's response quotes our request's MessageID: a pledge against our request.
    document = as_partner(
        settings, edxl.pledge_message, pledge, preceding_message_id=parsed.preceding_message_id
    )
    result = post_xml(api_client, region.operator_b, document)
    assert result.status_code == 201, result.content
    copy = Pledge.objects.get(pk=result.json()["pledge"])
    assert copy.request_id == req.pk and copy.status == "offered"
    assert (copy.quantity, copy.conditions) == (40, "Landing permit needed.")
    assert abs(copy.eta - pledge.eta) < timedelta(seconds=1)


def test_commit_resource_round_trip(region, crisis, api_client, settings):
    req = make_request(region, crisis, quantity=100)
    pledge = make_pledge(region, req, quantity=40)
    api_client.force_authenticate(region.operator_a)
    assert api_client.get(f"{API}/pledges/{pledge.pk}/commit.edxl-rm.xml").status_code == 409

    # The requester's system commits 30 of the 40 pledged, naming our response message.
    document = as_partner(
        settings,
        edxl.pledge_message,
        pledge,
        message_type="CommitResource",
        message_id="urn:partner:commit:1",
        response_type="",
        quantity=30,
        preceding_message_id=edxl_rm.message_id(pledge.reference, "ResponseToRequestResource"),
    )
    result = post_xml(api_client, region.operator_a, document)
    assert result.status_code == 201, result.content
    pledge.refresh_from_db()
    assert (pledge.status, pledge.quantity_accepted) == ("accepted", 30)

    response = api_client.get(f"{API}/pledges/{pledge.pk}/commit.edxl-rm.xml")
    check_structure(response.content, "CommitResource")
    parsed = edxl_rm.parse(response.content)
    same_message(edxl.commit_message(pledge), parsed)
    assert parsed.quantity == 30


def test_report_resource_deployment_status_round_trip(region, crisis, api_client, settings):
    req = make_request(region, crisis, quantity=100)
    pledge = make_pledge(region, req, quantity=40)
    assistance.accept_pledge(by=region.operator_a, pledge_id=pledge.pk)
    api_client.force_authenticate(region.operator_a)
    assert api_client.get(f"{API}/deliveries/{pledge.pk}/edxl-rm.xml").status_code == 404

    commit_id = edxl_rm.message_id(pledge.reference, "CommitResource")
    pledge.refresh_from_db()
    dispatched = as_partner(
        settings, edxl.commit_message, pledge, message_type="ReportResourceDeploymentStatus",
        message_id="urn:partner:deploy:1", preceding_message_id=commit_id,
        deployment_status="dispatched", scheduled_at=timezone.now() + timedelta(hours=5),
    )  # fmt: skip
    assert post_xml(api_client, region.operator_b, dispatched).status_code == 201
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.DISPATCHED

    delivered = as_partner(
        settings, edxl.deployment_message, pledge, message_id="urn:partner:deploy:2",
        preceding_message_id=commit_id, deployment_status="delivered", quantity=38,
    )  # fmt: skip
    result = post_xml(api_client, region.operator_a, delivered)
    assert result.status_code == 201, result.content
    pledge.refresh_from_db()
    assert (pledge.status, pledge.quantity_received) == ("delivered", 38)

    response = api_client.get(f"{API}/deliveries/{pledge.pk}/edxl-rm.xml")
    message = check_structure(response.content, "ReportResourceDeploymentStatus")
    status_path = "msg:ResourceInformation/rm:Resource/rm:ResourceStatus/rm:DeploymentStatus"
    assert message.findtext(f"{status_path}/rm:Value", namespaces=NS) == "delivered"
    parsed = edxl_rm.parse(response.content)
    same_message(edxl.deployment_message(pledge), parsed)
    assert (parsed.quantity, parsed.schedule_type) == (38, "ActualArrival")


def test_a_reply_to_a_partners_request_finds_the_request_it_made(region, crisis, api_client,
                                                                 settings):  # fmt: skip
    req = make_request(region, crisis, quantity=10)
    document = as_partner(settings, edxl.request_message, req, message_id="urn:partner:req:7")
    made = post_xml(api_client, region.operator_b, document).json()["request"]
    pledge = make_pledge(region, req, quantity=5)  # any pledge: the reply is built from it
    reply = as_partner(
        settings, edxl.pledge_message, pledge, message_id="urn:partner:resp:7",
        preceding_message_id="urn:partner:req:7",
    )  # fmt: skip
    result = post_xml(api_client, region.operator_a, reply)
    assert result.status_code == 201, result.content
    assert Pledge.objects.get(pk=result.json()["pledge"]).request_id == made


# --- repeats, echoes and refusals -------------------------------------------------------------


def _counts():
    return (
        AssistanceRequest.objects.count(),
        Pledge.objects.count(),
        ReceivedRMMessage.objects.count(),
    )


def test_the_same_message_twice_is_imported_once(region, crisis, api_client, settings):
    document = as_partner(settings, edxl.request_message, make_request(region, crisis))
    first = post_xml(api_client, region.operator_b, document)
    before = _counts()
    again = post_xml(api_client, region.operator_b, document)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "created": False}
    assert _counts() == before


def test_our_own_message_is_an_echo_and_refused(region, crisis, api_client):
    req = make_request(region, crisis)
    api_client.force_authenticate(region.operator_a)
    ours = api_client.get(f"{API}/requests/{req.pk}/edxl-rm.xml").content
    before = _counts()
    response = post_xml(api_client, region.operator_b, ours)
    assert response.status_code == 409 and response.json()["code"] == "own_message"
    assert _counts() == before


def test_a_refused_action_writes_nothing(region, crisis, api_client, settings):
    """A request from a state the crisis does not affect: the service refuses, and neither
    the request nor the note of the message is kept."""
    outsider_crisis = make_crisis(region, ref="CR-2026-0101", affected=[region.state_a],
                                  supporting=[region.desk_b, region.desk_c])  # fmt: skip
    req = make_request(region, outsider_crisis)
    before = _counts()
    response = post_xml(
        api_client, region.operator_c, as_partner(settings, edxl.request_message, req)
    )
    assert response.status_code == 400 and response.json()["code"] == "not_affected"
    assert _counts() == before


def test_a_desk_not_party_to_the_crisis_finds_nothing(region, crisis, api_client, settings):
    document = as_partner(settings, edxl.request_message, make_request(region, crisis))
    before = _counts()
    response = post_xml(api_client, region.operator_c, document)
    assert response.status_code == 404
    assert _counts() == before


MSG = f'xmlns="{edxl_rm.NS_MSG}" xmlns:rm="{edxl_rm.NS_RM}"'
GOOD_TOP = (
    "<MessageID>urn:p:1</MessageID><SentDateTime>2026-11-24T08:30:00+07:00</SentDateTime>"
    "<MessageContentType>RequestResource</MessageContentType>"
)


@pytest.mark.parametrize(
    "document,words",
    [
        (b"", "empty"),
        (b"not xml at all", "not well-formed"),
        (b"<a><b></a>", "not well-formed"),
        (f"<RequestInformation {MSG}/>".encode(), "not a message type we accept"),
        (b"<RequestResource/>", "namespace"),
        (
            f"<RequestResource {MSG}><SentDateTime>2026-11-24T08:30:00Z</SentDateTime>"
            "<MessageContentType>RequestResource</MessageContentType></RequestResource>".encode(),
            "<MessageID> is required",
        ),
        (f"<RequestResource {MSG}>{GOOD_TOP}</RequestResource>".encode(), "ContactInformation"),
        (
            f"<RequestResource {MSG}>{GOOD_TOP}<ContactInformation/></RequestResource>".encode(),
            "ResourceInformation",
        ),
        (
            f"<RequestResource {MSG}>{GOOD_TOP.replace('+07:00', '')}</RequestResource>".encode(),
            "time-zone offset",
        ),
        (
            f"<RequestResource {MSG}>{GOOD_TOP.replace('>RequestResource<', '>CommitResource<')}"
            "</RequestResource>".encode(),
            "says 'CommitResource'",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            b'"&lol;&lol;&lol;&lol;">]><RequestResource xmlns="urn:oasis:names:tc:emergency:EDXL'
            b':RM:1.0:msg"><MessageID>&lol2;</MessageID></RequestResource>',
            "DOCTYPE",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<r>&x;</r>",
            "DOCTYPE",
        ),
        (
            f'<EDXLDistribution xmlns="{edxl_rm.NS_DE}"><senderID>p</senderID>'
            "</EDXLDistribution>".encode(),
            "exactly one EDXL-RM message",
        ),
    ],
)
def test_documents_we_do_not_accept_get_a_400_naming_why(region, api_client, document, words):
    before = _counts()
    response = post_xml(api_client, region.operator_a, document)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_edxl_rm" and words in body["message"], body
    assert _counts() == before


def test_missing_pieces_of_a_request_are_named(region, crisis, api_client, settings):
    req = make_request(region, crisis)
    for changes, words in [
        ({"incident_id": ""}, "IncidentID"),
        ({"item": "unicorn"}, "unknown item 'unicorn'"),
        ({"unit": "tonne"}, "counted in 'piece'"),
        ({"quantity": None}, "quantity is required"),
        ({"scheduled_at": None}, "say when the resource is needed"),
        ({"priority": "urgent"}, "unknown priority"),
    ]:
        document = as_partner(settings, edxl.request_message, req, **changes)
        response = post_xml(api_client, region.operator_b, document)
        assert response.status_code == 400 and words in response.json()["message"], (
            changes,
            response.content,
        )
    assert ReceivedRMMessage.objects.count() == 0


def test_json_is_refused_before_anything_else(region, api_client):
    api_client.force_authenticate(region.operator_a)
    response = api_client.post(f"{API}/edxl-rm/", {"a": 1}, format="json")
    assert response.status_code == 415


def test_exports_follow_what_the_caller_may_see(region, crisis, api_client):
    req = make_request(region, crisis)
    pledge = make_pledge(region, req)
    api_client.force_authenticate(region.operator_c)
    for url in (
        f"{API}/requests/{req.pk}/edxl-rm.xml",
        f"{API}/pledges/{pledge.pk}/edxl-rm.xml",
        f"{API}/pledges/{pledge.pk}/commit.edxl-rm.xml",
        f"{API}/deliveries/{pledge.pk}/edxl-rm.xml",
    ):
        assert api_client.get(url).status_code == 404, url


def test_text_xml_cannot_carry_is_replaced_not_a_500(region, crisis, api_client):
    req = make_request(region, crisis)
    AssistanceRequest.objects.filter(pk=req.pk).update(notes="bell \x07 here")
    api_client.force_authenticate(region.operator_a)
    response = api_client.get(f"{API}/requests/{req.pk}/edxl-rm.xml")
    assert response.status_code == 200
    assert edxl_rm.parse(response.content).description == "bell \ufffd here"
