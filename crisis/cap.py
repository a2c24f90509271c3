"""OASIS Common Alerting Protocol 1.2: parse an alert we receive, render one we issue.

Parsing is strict about what CAP 1.2 requires (the elements, their order-independent
presence, the enumerations, the ``sent`` time with a numeric offset) and says which element
is wrong: a malformed or non-CAP document raises :class:`core.errors.InvalidInput` with
``details["element"]``. Only UTF-8 documents without a DOCTYPE are taken; entity
expansion, DTD loading and network access are off in the XML parser.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _
from lxml import etree

from core.errors import InvalidInput
from core.text import sanitize_for_xml

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "cap-1.2.xsd"
MAX_BYTES = 512 * 1024

STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = (
    "Geo", "Met", "Safety", "Security", "Rescue", "Fire",
    "Health", "Env", "Transport", "Infra", "CBRNE", "Other",
)  # fmt: skip
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")

# CAP 1.2 section 3.3.2: a time zone offset is required, "Z" is not allowed.
DATETIME_RE = re.compile(r"^\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")
# identifier and sender: no spaces, commas, "<" or "&".
TOKEN_RE = re.compile(r"^[^\s,<&]+$")


@dataclass
class CapArea:
    area_desc: str
    polygons: list[str] = field(default_factory=list)
    circles: list[str] = field(default_factory=list)
    geocodes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CapInfo:
    categories: list[str]
    event: str
    urgency: str
    severity: str
    certainty: str
    language: str = "en-US"
    headline: str = ""
    description: str = ""
    instruction: str = ""
    sender_name: str = ""
    areas: list[CapArea] = field(default_factory=list)


@dataclass
class CapMessage:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    references: list[tuple[str, str, str]] = field(default_factory=list)
    note: str = ""
    restriction: str = ""
    incidents: str = ""
    infos: list[CapInfo] = field(default_factory=list)

    def as_json(self) -> dict:
        data = asdict(self)
        data["sent"] = self.sent.isoformat()
        return data


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _bad(element: str, message: str) -> InvalidInput:
    """``message``: what is wrong, already in the reader's language (``gettext``)."""
    return InvalidInput(
        _("Not a valid CAP 1.2 alert: %(problem)s") % {"problem": message},
        code="invalid_cap",
        details={"element": element},
    )


def _text(parent, name: str, path: str, *, required: bool = True) -> str:
    found = parent.findall(_q(name))
    if not found:
        if required:
            raise _bad(
                f"{path}/{name}",
                _("<%(element)s> is required in <%(parent)s>.")
                % {"element": name, "parent": path.split("/")[-1]},
            )
        return ""
    if len(found) > 1:
        raise _bad(f"{path}/{name}", _("<%(element)s> may appear only once.") % {"element": name})
    value = (found[0].text or "").strip()
    if required and not value:
        raise _bad(f"{path}/{name}", _("<%(element)s> is empty.") % {"element": name})
    return value


def _enum(parent, name: str, path: str, allowed: tuple[str, ...]) -> str:
    value = _text(parent, name, path)
    if value not in allowed:
        raise _bad(
            f"{path}/{name}",
            _("<%(element)s> is %(value)s; CAP 1.2 allows %(allowed)s.")
            % {"element": name, "value": repr(value), "allowed": ", ".join(allowed)},
        )
    return value


def parse_datetime(value: str, element: str) -> datetime:
    if not DATETIME_RE.match(value):
        raise _bad(
            element,
            _(
                "<%(element)s> is %(value)s; use YYYY-MM-DDThh:mm:ss with a numeric time zone "
                "offset, e.g. 2026-11-24T08:30:00+07:00 (CAP 1.2 does not allow 'Z')."
            )
            % {"element": element.split("/")[-1], "value": repr(value)},
        )
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise _bad(
            element,
            _("<%(element)s> is not a real date and time: %(value)s.")
            % {"element": element.split("/")[-1], "value": repr(value)},
        ) from exc


def _parse_references(value: str) -> list[tuple[str, str, str]]:
    refs = []
    for triple in value.split():
        parts = triple.split(",")
        if len(parts) != 3 or not all(parts):
            raise _bad(
                "alert/references",
                _("<references> entry %(entry)s is not a sender,identifier,sent triple.")
                % {"entry": repr(triple)},
            )
        parse_datetime(parts[2], "alert/references")
        refs.append((parts[0], parts[1], parts[2]))
    return refs


def _parse_area(element, path: str) -> CapArea:
    area = CapArea(area_desc=_text(element, "areaDesc", path))
    area.polygons = [(p.text or "").strip() for p in element.findall(_q("polygon"))]
    area.circles = [(c.text or "").strip() for c in element.findall(_q("circle"))]
    for polygon in area.polygons:
        points = polygon.split()
        if len(points) < 4 or points[0] != points[-1] or not all(_is_point(p) for p in points):
            raise _bad(
                f"{path}/polygon",
                _("<polygon> needs four or more 'lat,lon' pairs, the first and last the same."),
            )
    for circle in area.circles:
        parts = circle.split()
        if len(parts) != 2 or not _is_point(parts[0]) or not _is_number(parts[1]):
            raise _bad(f"{path}/circle", _("<circle> is 'lat,lon radius' (radius in km)."))
    for geocode in element.findall(_q("geocode")):
        name = _text(geocode, "valueName", f"{path}/geocode")
        value = _text(geocode, "value", f"{path}/geocode")
        area.geocodes.append((name, value))
    return area


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_point(text: str) -> bool:
    parts = text.split(",")
    if len(parts) != 2 or not all(_is_number(p) for p in parts):
        return False
    lat, lon = (float(p) for p in parts)
    return -90 <= lat <= 90 and -180 <= lon <= 180


def point_of(area: CapArea) -> tuple[float, float] | None:
    """A representative point: a circle's centre, else a polygon's vertex mean."""
    if area.circles:
        lat, lon = area.circles[0].split()[0].split(",")
        return float(lat), float(lon)
    if area.polygons:
        points = [tuple(map(float, p.split(","))) for p in area.polygons[0].split()[:-1]]
        return (
            sum(p[0] for p in points) / len(points),
            sum(p[1] for p in points) / len(points),
        )
    return None


def _parse_info(element, path: str) -> CapInfo:
    categories = [(c.text or "").strip() for c in element.findall(_q("category"))]
    if not categories:
        raise _bad(f"{path}/category", _("<category> is required in <info>."))
    for category in categories:
        if category not in CATEGORIES:
            raise _bad(
                f"{path}/category",
                _("<%(element)s> is %(value)s; CAP 1.2 allows %(allowed)s.")
                % {
                    "element": "category",
                    "value": repr(category),
                    "allowed": ", ".join(CATEGORIES),
                },
            )
    info = CapInfo(
        categories=categories,
        event=_text(element, "event", path),
        urgency=_enum(element, "urgency", path, URGENCIES),
        severity=_enum(element, "severity", path, SEVERITIES),
        certainty=_enum(element, "certainty", path, CERTAINTIES),
        language=_text(element, "language", path, required=False) or "en-US",
        headline=_text(element, "headline", path, required=False),
        description=_text(element, "description", path, required=False),
        instruction=_text(element, "instruction", path, required=False),
        sender_name=_text(element, "senderName", path, required=False),
    )
    for name in ("effective", "onset", "expires"):
        value = _text(element, name, path, required=False)
        if value:
            parse_datetime(value, f"{path}/{name}")
    info.areas = [_parse_area(a, f"{path}/area") for a in element.findall(_q("area"))]
    return info


#: Encodings a document may declare: CAP alerts are taken in UTF-8 (ASCII is a subset).
ENCODINGS = ("UTF-8", "UTF8", "US-ASCII", "ASCII")
_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def document_text(document: bytes | str) -> str:
    """The document as text, if it is a CAP document we take: not empty, at most
    ``MAX_BYTES``, UTF-8 (a byte-order mark is fine) and declaring no other encoding.

    Raises InvalidInput (``invalid_cap``, element ``alert``) otherwise: a UTF-16 alert is
    refused with a reason rather than decoded by guesswork.
    """
    if isinstance(document, str):
        document = document.encode("utf-8", errors="surrogatepass")
    if not document.strip():
        raise _bad("alert", _("the body is empty; send the CAP XML document."))
    if len(document) > MAX_BYTES:
        raise _bad(
            "alert", _("the document is larger than %(kib)s KiB.") % {"kib": MAX_BYTES // 1024}
        )
    body = document.removeprefix(b"\xef\xbb\xbf")
    declared = _DECLARED_ENCODING.match(body)
    if document.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        declared and declared.group(1).decode().upper() not in ENCODINGS
    ):
        name = declared.group(1).decode() if declared else "UTF-16"
        raise _bad(
            "alert",
            _("the document is in %(encoding)s; send CAP alerts in UTF-8.") % {"encoding": name},
        )
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(
            "alert",
            _("the document is not valid UTF-8 (byte %(byte)s); send it in UTF-8.")
            % {"byte": exc.start},
        ) from exc


def _parser() -> etree.XMLParser:
    # No entity is expanded, no DTD loaded, nothing fetched; a DOCTYPE is refused below.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_alert(document: bytes | str) -> CapMessage:
    """Parse and check a CAP 1.2 alert; raise InvalidInput naming the offending element.

    A document with a DOCTYPE (an internal subset, entity declarations or an external
    DTD) is refused: CAP needs none, and entities are how XML attacks arrive.
    """
    text = document_text(document)
    try:
        root = etree.fromstring(text.encode("utf-8"), _parser())
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(
            # The parser's own words (libxml2's) stay in English: no catalogue has them.
            _("The body is not well-formed XML: %(problem)s (line %(line)s).")
            % {"problem": exc.msg, "line": exc.lineno},
            code="invalid_cap",
            details={"element": None, "line": exc.lineno},
        ) from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _bad(
            "alert",
            _(
                "the document has a DOCTYPE declaration; CAP alerts must not declare a DTD "
                "or entities. Remove the <!DOCTYPE ...> line."
            ),
        )
    if root.tag != _q("alert"):
        found = etree.QName(root)
        raise _bad(
            "alert",
            _(
                "the root element is <%(found)s> in namespace %(namespace)s; "
                "expected <alert> in %(ns)s."
            )
            % {
                "found": found.localname,
                "namespace": repr(found.namespace) if found.namespace else _("(none)"),
                "ns": repr(NS),
            },
        )
    path = "alert"
    identifier = _text(root, "identifier", path)
    sender = _text(root, "sender", path)
    for name, value in (("identifier", identifier), ("sender", sender)):
        if not TOKEN_RE.match(value):
            raise _bad(
                f"alert/{name}",
                _("<%(element)s> must not contain spaces, commas, '<' or '&'.") % {"element": name},
            )
        if len(value) > 255:
            raise _bad(
                f"alert/{name}",
                _("<%(element)s> is longer than 255 characters.") % {"element": name},
            )
    message = CapMessage(
        identifier=identifier,
        sender=sender,
        sent=parse_datetime(_text(root, "sent", path), "alert/sent"),
        status=_enum(root, "status", path, STATUSES),
        msg_type=_enum(root, "msgType", path, MSG_TYPES),
        scope=_enum(root, "scope", path, SCOPES),
        note=_text(root, "note", path, required=False),
    )
    references = _text(root, "references", path, required=False)
    if references:
        message.references = _parse_references(references)
    message.restriction = _text(root, "restriction", path, required=False)
    message.incidents = _text(root, "incidents", path, required=False)
    message.infos = [_parse_info(i, "alert/info") for i in root.findall(_q("info"))]
    # What the field checks above do not cover (element order, unknown elements) the
    # schema does.
    problem = schema_problem(root)
    if problem:
        element, detail = problem
        # The validator's own words (libxml2's) stay in English: no catalogue has them.
        raise _bad(element, _("the CAP 1.2 schema refuses it: %(detail)s") % {"detail": detail})
    return message


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _element_path(root, tree_path: str | None) -> str:
    """The offending element as ``alert/info/area`` (from the validator's XPath)."""
    try:
        nodes = root.xpath(tree_path) if tree_path else []
    except etree.XPathError:
        nodes = []
    if not nodes:
        return "alert"
    names, node = [], nodes[0]
    while node is not None:
        names.append(etree.QName(node).localname)
        node = node.getparent()
    return "/".join(reversed(names))


def schema_problem(root) -> tuple[str, str] | None:
    """(element path, message) of the first CAP 1.2 schema violation, or None if valid."""
    validator = schema()
    if validator.validate(root):
        return None
    error = validator.error_log[0]
    message = error.message.replace(f"{{{NS}}}", "")
    return _element_path(root, error.path), message


def validate_document(document: bytes | str) -> tuple[str, str] | None:
    """Validate a whole document against the CAP 1.2 schema (used by the tests)."""
    if isinstance(document, str):
        document = document.encode()
    return schema_problem(etree.fromstring(document, _parser()))


# --- rendering ---


def format_datetime(value: datetime) -> str:
    """CAP form: seconds, numeric offset (``+00:00``), never ``Z`` or fractions."""
    return value.replace(microsecond=0).isoformat()


def render_alert(message: CapMessage) -> str:
    """Render ``message`` as a CAP 1.2 document (elements in the schema's order)."""
    root = etree.Element(_q("alert"), nsmap={None: NS})

    def add(parent, name: str, text: str | None):
        if text is None or text == "":
            return None
        child = etree.SubElement(parent, _q(name))
        # Input is checked (core.text); text stored before that must not stop an alert.
        child.text = sanitize_for_xml(text)
        return child

    add(root, "identifier", message.identifier)
    add(root, "sender", message.sender)
    add(root, "sent", format_datetime(message.sent))
    add(root, "status", message.status)
    add(root, "msgType", message.msg_type)
    add(root, "scope", message.scope)
    add(root, "restriction", message.restriction)
    add(root, "note", message.note)
    if message.references:
        add(root, "references", " ".join(",".join(r) for r in message.references))
    add(root, "incidents", message.incidents)
    for info in message.infos:
        element = etree.SubElement(root, _q("info"))
        add(element, "language", info.language)
        for category in info.categories:
            add(element, "category", category)
        add(element, "event", info.event)
        add(element, "urgency", info.urgency)
        add(element, "severity", info.severity)
        add(element, "certainty", info.certainty)
        add(element, "senderName", info.sender_name)
        add(element, "headline", info.headline)
        add(element, "description", info.description)
        add(element, "instruction", info.instruction)
        for area in info.areas:
            area_el = etree.SubElement(element, _q("area"))
            add(area_el, "areaDesc", area.area_desc)
            for polygon in area.polygons:
                add(area_el, "polygon", polygon)
            for circle in area.circles:
                add(area_el, "circle", circle)
            for name, value in area.geocodes:
                geocode = etree.SubElement(area_el, _q("geocode"))
                add(geocode, "valueName", name)
                add(geocode, "value", value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode()
