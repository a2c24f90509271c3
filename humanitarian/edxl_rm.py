"""OASIS EDXL-RM 1.0 resource messages in and out, wrapped in an EDXL-DE 1.0 envelope.

What we send and accept (the mapping, field by field, is in docs/interoperability.md):

- ``RequestResource`` — an assistance request;
- ``ResponseToRequestResource`` — a pledge against a request;
- ``OfferUnsolicitedResource`` — a standalone offer of capacity;
- ``CommitResource`` — the requester's acceptance of a pledge;
- ``ReportResourceDeploymentStatus`` — a pledge dispatched or delivered.

This module only builds and reads documents (plain data in :class:`RMMessage`); what an
imported message *does* is ``humanitarian.services.edxl``. Reading is strict and safe: at
most :data:`MAX_BYTES`, UTF-8, no DOCTYPE (so no entity and no external DTD), no network,
and every problem is an ``InvalidInput`` (400) naming the element.

Message ids are ``urn:edxl-rm:<sender>:<record>:<message type>`` (``<record>`` is
``REQ-12`` or ``PLG-7``), so a reply's ``PrecedingMessageID`` names the record it
answers; ids of messages another system sent are kept as they came.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree

from core.errors import InvalidInput
from core.text import NOT_XML_CHAR

NS_MSG = "urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"
NS_RM = "urn:oasis:names:tc:emergency:EDXL:RM:1.0"
NS_DE = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"

#: Our value lists (EDXL-RM leaves resource typing to communities: a list is named by URN).
ITEM_LIST_URN = "urn:x-crisis-hotline:humanitarian:item"
PRIORITY_LIST_URN = "urn:x-crisis-hotline:humanitarian:priority"
ADMIN1_LIST_URN = "urn:iso:std:iso:3166:-2"
DEPLOYMENT_LIST_URN = "urn:x-crisis-hotline:humanitarian:deployment-status"

REQUEST = "RequestResource"
RESPONSE = "ResponseToRequestResource"
OFFER = "OfferUnsolicitedResource"
COMMIT = "CommitResource"
DEPLOYMENT = "ReportResourceDeploymentStatus"
MESSAGE_TYPES = (REQUEST, RESPONSE, OFFER, COMMIT, DEPLOYMENT)

#: EDXL-DE distributionType for each message type.
DISTRIBUTION_TYPES = {
    REQUEST: "Request",
    RESPONSE: "Response",
    OFFER: "Report",
    COMMIT: "Response",
    DEPLOYMENT: "Report",
}
RESPONSE_TYPES = ("Accept", "Decline", "Provisional")
DEPLOYMENT_STATUSES = ("dispatched", "delivered")

MAX_BYTES = 256 * 1024
#: The largest quantity a record can hold (the integer column's range).
MAX_AMOUNT = 2_147_483_647
_AMOUNT_RE = re.compile(r"^\d{1,10}(\.0*)?$")
_ID_RE = re.compile(r"^urn:edxl-rm:(?P<sender>[^:]+):(?P<kind>REQ|PLG)-(?P<pk>\d+):(?P<type>\w+)$")


class BadRMMessage(InvalidInput):
    code = "invalid_edxl_rm"


@dataclass
class RMMessage:
    """One EDXL-RM message as plain data (one resource per message: what we exchange)."""

    message_type: str
    message_id: str
    sent_at: datetime
    sender_id: str = ""
    originating_message_id: str = ""
    preceding_message_id: str = ""
    description: str = ""
    incident_id: str = ""
    incident_description: str = ""
    contact: str = ""
    item: str = ""
    item_label: str = ""
    quantity: int | None = None
    unit: str = ""
    priority: str = ""
    admin1_code: str = ""
    location: str = ""
    restrictions: str = ""
    schedule_type: str = ""
    scheduled_at: datetime | None = None
    response_type: str = ""
    deployment_status: str = ""
    extra: dict = field(default_factory=dict)


def sender_id() -> str:
    return settings.CAP_SENDER


def message_id(reference: str, message_type: str) -> str:
    """Our id for the message of ``message_type`` about record ``reference`` (REQ-12)."""
    return f"urn:edxl-rm:{sender_id()}:{reference}:{message_type}"


def record_of(message_id_: str) -> tuple[str, int] | None:
    """``("REQ", 12)`` if ``message_id_`` is one of ours, else None."""
    match = _ID_RE.match(message_id_ or "")
    if match is None or match["sender"] != sender_id():
        return None
    return match["kind"], int(match["pk"])


# --- writing --------------------------------------------------------------------------------
def _el(parent, ns: str, name: str, text=None):
    node = etree.SubElement(parent, f"{{{ns}}}{name}")
    if text is not None:
        # Older records may hold characters XML cannot carry: sent as U+FFFD, not a 500.
        node.text = NOT_XML_CHAR.sub("\ufffd", str(text))
    return node


def _value_key(parent, name: str, urn: str, value: str):
    node = _el(parent, NS_RM, name)
    _el(node, NS_RM, "ValueListURN", urn)
    _el(node, NS_RM, "Value", value)
    return node


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


def to_element(message: RMMessage) -> etree._Element:
    """The EDXL-RM message element (namespace ``…:EDXL:RM:1.0:msg``)."""
    root = etree.Element(f"{{{NS_MSG}}}{message.message_type}", nsmap={None: NS_MSG, "rm": NS_RM})
    _el(root, NS_MSG, "MessageID", message.message_id)
    _el(root, NS_MSG, "SentDateTime", _iso(message.sent_at))
    _el(root, NS_MSG, "MessageContentType", message.message_type)
    if message.description:
        _el(root, NS_MSG, "MessageDescription", message.description)
    if message.originating_message_id:
        _el(root, NS_MSG, "OriginatingMessageID", message.originating_message_id)
    if message.preceding_message_id:
        _el(root, NS_MSG, "PrecedingMessageID", message.preceding_message_id)
    if message.incident_id or message.incident_description:
        incident = _el(root, NS_MSG, "IncidentInformation")
        _el(incident, NS_RM, "IncidentDescription", message.incident_description)
        _el(incident, NS_RM, "IncidentID", message.incident_id)
    contact = _el(root, NS_MSG, "ContactInformation")
    _el(contact, NS_RM, "ContactDescription", message.contact or message.sender_id)
    _el(contact, NS_RM, "ContactRole", "Sender")
    info = _el(root, NS_MSG, "ResourceInformation")
    _el(info, NS_RM, "ResourceInfoElementID", "1")
    if message.response_type:
        response = _el(info, NS_RM, "ResponseInformation")
        _el(response, NS_RM, "PrecedingResourceInfoElementID", "1")
        _el(response, NS_RM, "ResponseType", message.response_type)
    resource = _el(info, NS_RM, "Resource")
    if message.item_label:
        _el(resource, NS_RM, "Name", message.item_label)
    _value_key(resource, "TypeStructure", ITEM_LIST_URN, message.item)
    if message.priority:
        _value_key(resource, "Keyword", PRIORITY_LIST_URN, message.priority)
    if message.admin1_code:
        _value_key(resource, "Keyword", ADMIN1_LIST_URN, message.admin1_code)
    if message.deployment_status:
        status = _el(resource, NS_RM, "ResourceStatus")
        _value_key(status, "DeploymentStatus", DEPLOYMENT_LIST_URN, message.deployment_status)
    if message.quantity is not None or message.restrictions:
        assignment = _el(info, NS_RM, "AssignmentInformation")
        if message.quantity is not None:
            measured = _el(_el(assignment, NS_RM, "Quantity"), NS_RM, "MeasuredQuantity")
            _el(measured, NS_RM, "Amount", message.quantity)
            if message.unit:
                _el(measured, NS_RM, "UnitOfMeasure", message.unit)
        if message.restrictions:
            _el(assignment, NS_RM, "Restrictions", message.restrictions)
    if message.schedule_type and (message.scheduled_at or message.location):
        schedule = _el(info, NS_RM, "ScheduleInformation")
        _el(schedule, NS_RM, "ScheduleType", message.schedule_type)
        if message.scheduled_at:
            _el(schedule, NS_RM, "DateTime", _iso(message.scheduled_at))
        if message.location:
            location = _el(schedule, NS_RM, "Location")
            _el(location, NS_RM, "LocationDescription", message.location)
    return root


def envelope(message: RMMessage) -> bytes:
    """The message inside an EDXL-DE 1.0 ``EDXLDistribution``, as UTF-8 XML bytes."""
    de = etree.Element(f"{{{NS_DE}}}EDXLDistribution", nsmap={None: NS_DE})
    _el(de, NS_DE, "distributionID", f"urn:uuid:{uuid.uuid4()}")
    _el(de, NS_DE, "senderID", message.sender_id or sender_id())
    _el(de, NS_DE, "dateTimeSent", _iso(message.sent_at))
    _el(de, NS_DE, "distributionStatus", "Actual")
    _el(de, NS_DE, "distributionType", DISTRIBUTION_TYPES[message.message_type])
    _el(de, NS_DE, "combinedConfidentiality", "UNCLASSIFIED AND NOT SENSITIVE")
    content = _el(de, NS_DE, "contentObject")
    _el(content, NS_DE, "contentDescription", f"EDXL-RM 1.0 {message.message_type}")
    embedded = _el(_el(content, NS_DE, "xmlContent"), NS_DE, "embeddedXMLContent")
    embedded.append(to_element(message))
    return etree.tostring(de, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- reading --------------------------------------------------------------------------------
def _bad(element: str, problem: str) -> BadRMMessage:
    """``problem``: what is wrong, already in the reader's language (``gettext``)."""
    return BadRMMessage(
        _("%(element)s: %(problem)s") % {"element": element, "problem": problem},
        details={"element": element},
    )


def _parser() -> etree.XMLParser:
    # No entity expanded, no DTD loaded, nothing fetched; a DOCTYPE is refused below.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _root(document: bytes) -> etree._Element:
    if not document or not document.strip():
        raise _bad("document", _("the body is empty; send an EDXL-RM message as XML."))
    if len(document) > MAX_BYTES:
        raise _bad(
            "document", _("the document is larger than %(kib)s KiB.") % {"kib": MAX_BYTES // 1024}
        )
    try:
        root = etree.fromstring(document, _parser())
    except etree.XMLSyntaxError as exc:
        raise BadRMMessage(
            # The parser's own words (libxml2's) stay in English: no catalogue has them.
            _("The body is not well-formed XML: %(problem)s (line %(line)s).")
            % {"problem": exc.msg, "line": exc.lineno},
            details={"element": None, "line": exc.lineno},
        ) from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _bad(
            "document",
            _(
                "the document has a DOCTYPE declaration; EDXL messages must not declare a DTD "
                "or entities."
            ),
        )
    return root


def _unwrap(root: etree._Element) -> tuple[etree._Element, str]:
    """The RM message (the root itself, or the one inside an EDXL-DE envelope) and the
    envelope's senderID (empty for a bare message)."""
    if root.tag != f"{{{NS_DE}}}EDXLDistribution":
        return root, ""
    sender = _text(root, "de:senderID", "EDXLDistribution", required=True, max_length=255)
    found = root.findall(
        f"{{{NS_DE}}}contentObject/{{{NS_DE}}}xmlContent/{{{NS_DE}}}embeddedXMLContent/*"
    )
    messages = [el for el in found if etree.QName(el).namespace == NS_MSG]
    if len(messages) != 1:
        raise _bad(
            "EDXLDistribution/contentObject",
            _("expected exactly one EDXL-RM message in embeddedXMLContent, found %(n)s.")
            % {"n": len(messages)},
        )
    return messages[0], sender


def _text(parent, path: str, where: str, *, required: bool = False, max_length: int = 2000) -> str:
    node = parent.find(path, {"msg": NS_MSG, "rm": NS_RM, "de": NS_DE})
    value = (node.text or "").strip() if node is not None else ""
    name = path.split(":")[-1]
    if required and not value:
        raise _bad(f"{where}/{name}", _("<%(element)s> is required.") % {"element": name})
    if len(value) > max_length:
        raise _bad(
            f"{where}/{name}",
            _("<%(element)s> is longer than %(n)s characters.")
            % {"element": name, "n": max_length},
        )
    return value


def _datetime(value: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _bad(
            where,
            _("%(value)s is not a date and time (e.g. 2026-11-24T08:30:00+07:00).")
            % {"value": repr(value)},
        ) from exc
    if parsed.tzinfo is None:
        raise _bad(where, _("give the time-zone offset (e.g. +07:00 or Z)."))
    return parsed


def _keywords(resource) -> dict[str, str]:
    found = {}
    for keyword in resource.findall("rm:Keyword", {"rm": NS_RM}):
        urn = _text(keyword, "rm:ValueListURN", "Keyword")
        found[urn] = _text(keyword, "rm:Value", "Keyword")
    return found


def parse(document: bytes) -> RMMessage:
    """Read an EDXL-RM message (bare or inside EDXL-DE); raise ``BadRMMessage`` (400)."""
    root, sender = _unwrap(_root(document))
    qname = etree.QName(root)
    if qname.namespace != NS_MSG:
        raise _bad(
            qname.localname,
            _(
                "the root element is in namespace %(namespace)s; expected an EDXL-RM message "
                "in %(ns)s."
            )
            % {
                "namespace": repr(qname.namespace) if qname.namespace else _("(none)"),
                "ns": repr(NS_MSG),
            },
        )
    if qname.localname not in MESSAGE_TYPES:
        raise _bad(
            qname.localname,
            _("<%(element)s> is not a message type we accept; use one of %(types)s.")
            % {"element": qname.localname, "types": ", ".join(MESSAGE_TYPES)},
        )
    kind = qname.localname
    content_type = _text(root, "msg:MessageContentType", kind, required=True)
    if content_type != kind:
        raise _bad(
            f"{kind}/MessageContentType",
            _("says %(value)s but the message element is <%(element)s>.")
            % {"value": repr(content_type), "element": kind},
        )
    message = RMMessage(
        message_type=kind,
        message_id=_text(root, "msg:MessageID", kind, required=True, max_length=255),
        sender_id=sender,
        sent_at=_datetime(
            _text(root, "msg:SentDateTime", kind, required=True), f"{kind}/SentDateTime"
        ),
        originating_message_id=_text(root, "msg:OriginatingMessageID", kind, max_length=255),
        preceding_message_id=_text(root, "msg:PrecedingMessageID", kind, max_length=255),
        description=_text(root, "msg:MessageDescription", kind),
        incident_id=_text(root, "msg:IncidentInformation/rm:IncidentID", kind, max_length=64),
        incident_description=_text(root, "msg:IncidentInformation/rm:IncidentDescription", kind),
        contact=_text(root, "msg:ContactInformation/rm:ContactDescription", kind),
    )
    if root.find(f"{{{NS_MSG}}}ContactInformation") is None:
        raise _bad(
            f"{kind}/ContactInformation",
            _("<%(element)s> is required.") % {"element": "ContactInformation"},
        )
    infos = root.findall(f"{{{NS_MSG}}}ResourceInformation")
    if len(infos) != 1:
        raise _bad(
            f"{kind}/ResourceInformation",
            _("expected one <ResourceInformation> (one resource per message), found %(n)s.")
            % {"n": len(infos)},
        )
    _read_resource(message, infos[0], f"{kind}/ResourceInformation")
    return message


def _read_resource(message: RMMessage, info, where: str) -> None:
    ns = {"rm": NS_RM}
    resource = info.find("rm:Resource", ns)
    if resource is None:
        raise _bad(f"{where}/Resource", _("<%(element)s> is required.") % {"element": "Resource"})
    type_structure = resource.find("rm:TypeStructure", ns)
    if type_structure is not None:
        urn = _text(type_structure, "rm:ValueListURN", f"{where}/Resource/TypeStructure")
        if urn != ITEM_LIST_URN:
            raise _bad(
                f"{where}/Resource/TypeStructure/ValueListURN",
                _("unknown value list %(urn)s; resources are typed by %(expected)s.")
                % {"urn": repr(urn), "expected": repr(ITEM_LIST_URN)},
            )
        message.item = _text(
            type_structure, "rm:Value", f"{where}/Resource/TypeStructure", required=True
        )
    message.item_label = _text(resource, "rm:Name", f"{where}/Resource")
    keywords = _keywords(resource)
    message.priority = keywords.get(PRIORITY_LIST_URN, "")
    message.admin1_code = keywords.get(ADMIN1_LIST_URN, "")
    status = resource.find("rm:ResourceStatus/rm:DeploymentStatus", ns)
    if status is not None:
        message.deployment_status = _text(
            status, "rm:Value", f"{where}/Resource/ResourceStatus/DeploymentStatus", required=True
        )
    response = info.find("rm:ResponseInformation", ns)
    if response is not None:
        message.response_type = _text(
            response, "rm:ResponseType", f"{where}/ResponseInformation", required=True
        )
        if message.response_type not in RESPONSE_TYPES:
            raise _bad(
                f"{where}/ResponseInformation/ResponseType",
                _("%(value)s is not one of %(allowed)s.")
                % {"value": repr(message.response_type), "allowed": ", ".join(RESPONSE_TYPES)},
            )
    amount = _text(
        info, "rm:AssignmentInformation/rm:Quantity/rm:MeasuredQuantity/rm:Amount", where
    )
    if amount:
        if not _AMOUNT_RE.match(amount) or int(amount.split(".")[0]) > MAX_AMOUNT:
            raise _bad(
                f"{where}/AssignmentInformation/Quantity/MeasuredQuantity/Amount",
                _("%(value)s is not a whole number from 0 to %(max)s.")
                % {"value": repr(amount[:40]), "max": MAX_AMOUNT},
            )
        message.quantity = int(amount.split(".")[0])
    message.unit = _text(
        info, "rm:AssignmentInformation/rm:Quantity/rm:MeasuredQuantity/rm:UnitOfMeasure", where
    )
    message.restrictions = _text(info, "rm:AssignmentInformation/rm:Restrictions", where)
    schedule = info.find("rm:ScheduleInformation", ns)
    if schedule is not None:
        message.schedule_type = _text(schedule, "rm:ScheduleType", f"{where}/ScheduleInformation")
        at = _text(schedule, "rm:DateTime", f"{where}/ScheduleInformation")
        if at:
            message.scheduled_at = _datetime(at, f"{where}/ScheduleInformation/DateTime")
        message.location = _text(
            schedule,
            "rm:Location/rm:LocationDescription",
            f"{where}/ScheduleInformation",
            max_length=200,
        )
