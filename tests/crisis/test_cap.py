"""CAP 1.2: parsing (strict, naming the bad element), rendering, export and intake."""

from datetime import datetime

import pytest
from lxml import etree

from core.errors import InvalidInput
from crisis import cap
from crisis.models import CapAlert, Crisis, TimelineEntry
from crisis.services import cap_alerts, cap_intake
from crisis.services import crises as services
from tests.crisis.factories import make_protocol, report

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}

GOOD = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>TMD-EQ-20261124-0830</identifier>
  <sender>earthquake.tmd.go.th</sender>
  <sent>2026-11-24T08:30:00+07:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>en-US</language>
    <category>Geo</category>
    <event>Earthquake</event>
    <responseType>Monitor</responseType>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <effective>2026-11-24T08:30:00+07:00</effective>
    <senderName>Thai Meteorological Department</senderName>
    <headline>M6.8 earthquake in the Andaman Sea</headline>
    <description>A magnitude 6.8 earthquake struck at 08:21 local time, depth 10 km.</description>
    <instruction>Coastal desks: stand by for a tsunami assessment.</instruction>
    <area>
      <areaDesc>Andaman Sea, off Phang Nga</areaDesc>
      <circle>8.1,97.9 100</circle>
      <geocode><valueName>ISO3166-1-alpha-3</valueName><value>BBB</value></geocode>
      <geocode><valueName>ISO3166-1-alpha-3</valueName><value>AUS</value></geocode>
    </area>
  </info>
</alert>
"""


ID = "<identifier>TMD-EQ-20261124-0830</identifier>"
SENT = "<sent>2026-11-24T08:30:00+07:00</sent>"
UPDATE = "<msgType>Update</msgType><references>x,y</references>"


def variant(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new)


def test_parse_a_real_shaped_alert():
    message = cap.parse_alert(GOOD)
    assert (message.identifier, message.sender) == ("TMD-EQ-20261124-0830", "earthquake.tmd.go.th")
    assert message.sent == datetime.fromisoformat("2026-11-24T08:30:00+07:00")
    assert (message.status, message.msg_type, message.scope) == ("Actual", "Alert", "Public")
    (info,) = message.infos
    assert info.categories == ["Geo"] and info.event == "Earthquake"
    assert (info.urgency, info.severity, info.certainty) == ("Immediate", "Severe", "Observed")
    assert info.headline.startswith("M6.8") and info.instruction.startswith("Coastal")
    (area,) = info.areas
    assert area.circles == ["8.1,97.9 100"]
    assert area.geocodes == [("ISO3166-1-alpha-3", "BBB"), ("ISO3166-1-alpha-3", "AUS")]
    assert cap.point_of(area) == (8.1, 97.9)


@pytest.mark.parametrize(
    ("document", "element", "words"),
    [
        ("", "alert", "empty"),
        ("this is not xml", None, "well-formed"),
        ("<alert><identifier>x</identifier></alert>", "alert", "namespace"),
        (GOOD.replace(":cap:1.2", ":cap:1.1"), "alert", "namespace"),
        ('<feed xmlns="http://www.w3.org/2005/Atom"/>', "alert", "<feed>"),
        (variant(ID, ""), "alert/identifier", "required"),
        (variant(ID, f"<identifier>{'x' * 256}</identifier>"), "alert/identifier", "255"),
        (variant(ID, "<identifier>a b</identifier>"),
         "alert/identifier", "spaces"),
        (variant("<status>Actual</status>", "<status>Real</status>"), "alert/status", "Exercise"),
        (variant(SENT, "<sent>2026-11-24T01:30:00Z</sent>"),
         "alert/sent", "offset"),
        (variant(SENT, "<sent>2026-02-30T08:30:00+07:00</sent>"),
         "alert/sent", "real date"),
        (variant("<category>Geo</category>", "<category>Quake</category>"), "alert/info/category",
         "Geo"),
        (variant("<category>Geo</category>", ""), "alert/info/category", "required"),
        (variant("<event>Earthquake</event>", ""), "alert/info/event", "required"),
        (variant("<severity>Severe</severity>", "<severity>Big</severity>"), "alert/info/severity",
         "Extreme"),
        (variant("<circle>8.1,97.9 100</circle>", "<circle>8.1;97.9</circle>"),
         "alert/info/area/circle", "radius"),
        (variant("<circle>8.1,97.9 100</circle>", "<polygon>1,1 2,2 1,1</polygon>"),
         "alert/info/area/polygon", "four"),
        (variant("<areaDesc>Andaman Sea, off Phang Nga</areaDesc>", ""), "alert/info/area/areaDesc",
         "required"),
        (variant("<scope>Public</scope>", "<scope>Public</scope><scope>Private</scope>"),
         "alert/scope", "once"),
        (variant("<status>Actual</status>\n  <msgType>Alert</msgType>",
                 "<msgType>Alert</msgType><status>Actual</status>"), "alert/msgType", "expected"),
        (variant("<responseType>Monitor</responseType>", "<colour>red</colour>"),
         "alert/info/colour", "not expected"),
        (variant("<msgType>Alert</msgType>", UPDATE)
         .replace("<references>x,y</references>\n  <scope>Public</scope>",
                  "<scope>Public</scope><references>x,y</references>"),
         "alert/references", "triple"),
    ],
)  # fmt: skip
def test_malformed_or_non_cap_documents_name_the_element(document, element, words):
    with pytest.raises(InvalidInput) as refused:
        cap.parse_alert(document)
    assert refused.value.code == "invalid_cap"
    assert refused.value.details["element"] == element
    assert words.lower() in refused.value.message.lower(), refused.value.message


def test_external_entities_are_not_resolved():
    evil = GOOD.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    ).replace("<event>Earthquake</event>", "<event>&x;</event>")
    try:
        message = cap.parse_alert(evil)
    except InvalidInput:
        return
    assert "root:" not in message.infos[0].event


def test_render_is_schema_valid_and_parses_back():
    message = cap.parse_alert(GOOD)
    rendered = cap.render_alert(message)
    assert cap.validate_document(rendered) is None
    again = cap.parse_alert(rendered)
    assert again.as_json() == message.as_json()


def test_the_schema_itself_rejects_what_cap_forbids():
    assert cap.validate_document(GOOD) is None
    problem = cap.validate_document(variant("<scope>Public</scope>", ""))
    assert (problem is not None and problem[0] == "alert/restriction") or "scope" in problem[1]


# --- export ---


def fields(xml: bytes) -> dict:
    root = etree.fromstring(xml)
    assert root.tag == "{urn:oasis:names:tc:emergency:cap:1.2}alert"

    def text(path):
        return root.findtext(path, namespaces=NS)

    return {
        "identifier": text("cap:identifier"),
        "sender": text("cap:sender"),
        "sent": text("cap:sent"),
        "status": text("cap:status"),
        "msgType": text("cap:msgType"),
        "scope": text("cap:scope"),
        "restriction": text("cap:restriction"),
        "references": text("cap:references"),
        "incidents": text("cap:incidents"),
        "category": [c.text for c in root.findall("cap:info/cap:category", NS)],
        "event": text("cap:info/cap:event"),
        "urgency": text("cap:info/cap:urgency"),
        "severity": text("cap:info/cap:severity"),
        "certainty": text("cap:info/cap:certainty"),
        "senderName": text("cap:info/cap:senderName"),
        "headline": text("cap:info/cap:headline"),
        "areaDesc": text("cap:info/cap:area/cap:areaDesc"),
        "circle": text("cap:info/cap:area/cap:circle"),
        "geocodes": [
            (g.findtext("cap:valueName", namespaces=NS), g.findtext("cap:value", namespaces=NS))
            for g in root.findall("cap:info/cap:area/cap:geocode", NS)
        ],
    }


@pytest.mark.django_db
def test_export_alert_then_updates_with_references(region, api_client, settings):
    settings.CAP_SENDER = "crisis.example.org"
    make_protocol()
    crisis = report(region)
    api_client.force_authenticate(region.operator_b)
    url = f"/api/v1/crises/{crisis.pk}/cap.xml"
    response = api_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert cap.validate_document(response.content) is None
    first = fields(response.content)
    assert first["sent"].endswith("+00:00") and cap.DATETIME_RE.match(first["sent"])
    assert first == {
        "identifier": f"{crisis.reference}.1",
        "sender": "crisis.example.org",
        "sent": first["sent"],
        "status": "Actual",
        "msgType": "Alert",
        "scope": "Restricted",
        "restriction": cap_alerts.CAP_RESTRICTION,
        "references": None,
        "incidents": crisis.reference,
        "category": ["Transport"],
        "event": "Maritime incident",
        "urgency": "Immediate",
        "severity": "Moderate",
        "certainty": "Likely",
        "senderName": region.desk_a.name,
        "headline": f"{crisis.reference}: Tanker and fishing vessel collide",
        "areaDesc": "AA-91 Coast",
        "circle": "6.12000,99.45000 0",
        "geocodes": [("ISO3166-1-alpha-3", "AAA"), ("ISO3166-1-alpha-3", "BBB")],
    }

    services.transition_crisis(
        by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="active"
    )
    services.change_severity(by=region.operator_a, desk=region.desk_a, crisis=crisis, severity=5)
    third = api_client.get(url).content
    assert cap.validate_document(third) is None
    third = fields(third)
    second = fields(CapAlert.objects.get(identifier=f"{crisis.reference}.2").raw_xml.encode())
    assert (second["msgType"], second["severity"], second["certainty"]) == (
        "Update",
        "Moderate",
        "Observed",
    )
    assert second["references"] == f"crisis.example.org,{crisis.reference}.1,{first['sent']}"
    assert third["msgType"] == "Update" and third["severity"] == "Extreme"
    assert third["references"].split() == [
        f"crisis.example.org,{crisis.reference}.1,{first['sent']}",
        f"crisis.example.org,{crisis.reference}.2,{second['sent']}",
    ]
    # every issued alert is kept, parsed fields alongside
    assert list(crisis.cap_alerts.values_list("msg_type", flat=True)) == [
        "Alert",
        "Update",
        "Update",
    ]


@pytest.mark.django_db
def test_a_dismissed_crisis_is_cancelled(region, api_client):
    crisis = report(region)
    services.transition_crisis(
        by=region.supervisor_a,
        desk=region.desk_a,
        crisis=crisis,
        to_status="closed",
        reason="Drill",
    )
    api_client.force_authenticate(region.operator_a)
    last = fields(api_client.get(f"/api/v1/crises/{crisis.pk}/cap.xml").content)
    assert (last["msgType"], last["urgency"], last["certainty"]) == ("Cancel", "Past", "Unlikely")


# --- intake ---


def post_cap(api_client, document, content_type="application/xml", query=""):
    return api_client.post(
        f"/api/v1/crises/cap/{query}", data=document.encode(), content_type=content_type
    )


def written():
    return (Crisis.objects.count(), CapAlert.objects.count(), TimelineEntry.objects.count())


@pytest.mark.django_db
def test_intake_opens_a_reported_crisis_and_keeps_the_alert(region, api_client):
    api_client.force_authenticate(region.operator_a)
    response = post_cap(api_client, GOOD)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "reported" and body["category"] == "earthquake"
    assert body["severity"] == 4 and body["title"] == "M6.8 earthquake in the Andaman Sea"
    assert body["affected_states"] == [
        "AAA",
        "BBB",
    ]  # the desk's state and the geocode (AUS ignored)
    assert (body["latitude"], body["longitude"]) == ("8.10000", "97.90000")
    assert body["admin_area"] == "Andaman Sea, off Phang Nga"
    assert "stand by" in body["description"]
    crisis = Crisis.objects.get(pk=body["id"])
    received = crisis.cap_alerts.get(direction="received")
    assert received.raw_xml == GOOD and received.desk == region.desk_a
    assert received.parsed["infos"][0]["event"] == "Earthquake"
    assert [e.kind for e in crisis.timeline.order_by("seq")] == ["reported", "cap_received"]
    # the same alert again: the same crisis, nothing new written
    before = written()
    again = post_cap(api_client, GOOD, content_type="text/xml")
    assert again.status_code == 200 and again.json()["id"] == crisis.pk
    assert written() == before
    # an Update referring to it is attached to the crisis
    update = (
        variant("<msgType>Alert</msgType>", "<msgType>Update</msgType>")
        .replace(
            "<scope>Public</scope>",
            "<scope>Public</scope><references>earthquake.tmd.go.th,TMD-EQ-20261124-0830,"
            "2026-11-24T08:30:00+07:00</references>",
        )
        .replace("TMD-EQ-20261124-0830</identifier>", "TMD-EQ-20261124-0900</identifier>")
    )
    attached = post_cap(api_client, update, content_type="application/cap+xml")
    assert attached.status_code == 200 and attached.json()["id"] == crisis.pk
    assert crisis.timeline.order_by("seq").last().payload["msg_type"] == "Update"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("document", "element"),
    [
        ("<html><body>hello</body></html>", "alert"),
        ("<alert", None),
        (GOOD.replace("<event>Earthquake</event>", ""), "alert/info/event"),
        (GOOD.replace("<status>Actual</status>", "<status>Test</status>"), "alert/status"),
        (GOOD.replace("<msgType>Alert</msgType>", "<msgType>Ack</msgType>"), "alert/msgType"),
    ],
)
def test_intake_refuses_bad_documents_with_the_element_and_writes_nothing(
    region, api_client, document, element
):
    api_client.force_authenticate(region.operator_a)
    response = post_cap(api_client, document)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_cap" and body["details"]["element"] == element
    assert written() == (0, 0, 0)


@pytest.mark.django_db
def test_a_bad_alert_is_refused_in_the_readers_language(region, api_client):
    api_client.force_authenticate(region.operator_a)
    missing_event = GOOD.replace("<event>Earthquake</event>", "")
    english = post_cap(api_client, missing_event).json()["message"]
    assert english == "Not a valid CAP 1.2 alert: <event> is required in <info>."
    response = api_client.post(
        "/api/v1/crises/cap/", data=missing_event.encode(), content_type="application/xml",
        HTTP_ACCEPT_LANGUAGE="th",
    )  # fmt: skip
    body = response.json()
    assert response.status_code == 400 and body["code"] == "invalid_cap"
    assert body["message"] == "ไม่ใช่ประกาศเตือนภัย CAP 1.2 ที่ถูกต้อง: ต้องมี <event> ใน <info>"
    assert body["details"]["element"] == "alert/info/event"  # codes never change
    response = api_client.post(
        "/api/v1/crises/cap/", data=b"<alert", content_type="application/xml",
        HTTP_ACCEPT_LANGUAGE="vi",
    )  # fmt: skip
    assert response.json()["message"].startswith("Nội dung không phải XML đúng cú pháp: ")
    assert written() == (0, 0, 0)


@pytest.mark.django_db
def test_intake_needs_xml_a_writer_and_a_state(region, api_client):
    api_client.force_authenticate(region.operator_a)
    response = api_client.post("/api/v1/crises/cap/", {"xml": GOOD}, format="json")
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"
    api_client.force_authenticate(region.auditor)
    assert post_cap(api_client, GOOD).status_code == 403
    api_client.force_authenticate(region.coordinator)  # the centre has no state of its own
    no_state = GOOD.replace("<value>BBB</value>", "<value>NZL</value>")
    response = post_cap(api_client, no_state)
    assert response.status_code == 400 and response.json()["details"]["element"] == (
        "alert/info/area/geocode"
    )
    assert written() == (0, 0, 0)
    response = post_cap(api_client, GOOD)
    assert response.status_code == 201 and response.json()["affected_states"] == ["BBB"]


@pytest.mark.django_db
def test_intake_service_returns_what_became_of_the_alert(region):
    opened = cap_intake.ingest_cap_alert(by=region.operator_a, desk=region.desk_a, xml=GOOD)
    assert opened.outcome == cap_intake.CapOutcome.OPENED and opened.opened
    assert opened.alert.crisis == opened.crisis and opened.alert.direction == "received"
    assert not hasattr(opened.crisis, "cap_outcome")  # the outcome is not put on the model
    again = cap_intake.ingest_cap_alert(by=region.operator_a, desk=region.desk_a, xml=GOOD)
    assert again.outcome == cap_intake.CapOutcome.DUPLICATE and not again.opened
    assert (again.crisis.pk, again.alert.pk) == (opened.crisis.pk, opened.alert.pk)
    update = variant("<msgType>Alert</msgType>", "<msgType>Update</msgType>").replace(
        "<scope>Public</scope>",
        "<scope>Public</scope><references>earthquake.tmd.go.th,TMD-EQ-20261124-0830,"
        "2026-11-24T08:30:00+07:00</references>",
    )
    update = update.replace(ID, "<identifier>TMD-EQ-20261124-0900</identifier>")
    attached = cap_intake.ingest_cap_alert(by=region.operator_a, desk=region.desk_a, xml=update)
    assert attached.outcome == cap_intake.CapOutcome.ATTACHED
    assert attached.crisis.pk == opened.crisis.pk and attached.alert.msg_type == "Update"
    assert attached.alert.pk != opened.alert.pk
