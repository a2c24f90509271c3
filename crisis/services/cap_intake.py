"""CAP intake: a desk posts a CAP 1.2 alert and it becomes (part of) a crisis.

An Alert opens a reported crisis (its desk as lead, its states from the desk and from
ISO 3166-1 alpha-3 geocodes); an Update or Cancel referencing an alert we hold is
attached to that alert's crisis; the same alert posted twice returns its crisis
unchanged. The document is kept verbatim (``CapAlert``, direction ``received``).

The steps, in order: parse (and refuse what does not describe an actual event or an
exercise), dedupe, find what it references, open or attach, keep the document. An alert
with status ``Exercise`` opens an exercise crisis and attaches only to one; an ``Actual``
alert never attaches to an exercise crisis (nor an exercise alert to a real one): a
reference across that line is refused, so drill traffic and real traffic never mix. The
outcome is returned in a :class:`CapIntake`, never put on the crisis.

Two doors share those steps: :func:`ingest_cap_alert` (a person posts for their desk; what
they cannot see stays hidden) and :func:`receive_polled_cap_alert` (the system polls a
national agency's feed, ``feeds``; the caller decides whether a new alert opens a crisis).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.errors import Conflict, InvalidInput
from crisis import cap
from crisis.models import CapAlert, CapDirection, Crisis
from crisis.selectors import crises_visible_to
from crisis.services import timeline
from crisis.services.cap_alerts import (
    CAP_TO_SEVERITY,
    ISO3_GEOCODE,
    category_from_cap,
    issue_cap_alert,
    state_codes_in,
)
from crisis.services.crises import member_states_named, open_reported_crisis, parse_coordinate
from crisis.services.steps import announce, lock_crisis
from directory.access import access_for
from directory.models import Desk, MemberState

#: The CAP statuses intake accepts: a real event, or a drill's (which opens an exercise
#: crisis). System, Test and Draft messages describe no event.
INTAKE_STATUSES = ("Actual", "Exercise")


class CapOutcome(StrEnum):
    OPENED = "opened"  # an Alert opened a new reported crisis
    ATTACHED = "attached"  # an Update or Cancel joined the crisis of the alert it references
    DUPLICATE = "duplicate"  # this alert was received before: nothing written


@dataclass(frozen=True)
class CapIntake:
    """What became of a posted alert."""

    crisis: Crisis
    outcome: CapOutcome
    #: The received alert as kept (for a duplicate: the one kept the first time).
    alert: CapAlert

    @property
    def opened(self) -> bool:
        return self.outcome == CapOutcome.OPENED


def ingest_cap_alert(*, by, desk: Desk, xml: bytes | str) -> CapIntake:
    """A desk posts a CAP 1.2 alert (see the module docstring for what becomes of it).

    Who: any writing member of ``desk``. One transaction; nothing is written on refusal.
    Malformed or non-CAP documents, Ack/Error messages, alerts neither Actual nor Exercise,
    an alert referencing one on the other side of the drill line, alerts without
    an ``<info>`` or naming no member state, and a Cancel referring to no alert we hold
    raise InvalidInput naming the element; an alert already received for a crisis the
    caller cannot see raises Conflict (``cap_already_received``).
    """
    access = access_for(by)
    access.require_act_for(desk)
    message, info = parse_for_intake(xml)
    raw = cap.document_text(xml)  # kept verbatim (UTF-8, checked by the parse above)
    visible = crises_visible_to(access)
    with transaction.atomic():
        earlier = _received_before(message, visible)
        if earlier is not None:
            return CapIntake(crisis=earlier.crisis, outcome=CapOutcome.DUPLICATE, alert=earlier)
        referenced = _referenced_alert(message, visible)
        if referenced is None and message.msg_type == "Cancel":
            raise _cancel_of_nothing()
        return _take(
            message, info, raw, by=by, desk=desk, referenced=referenced,
            category=category_from_cap(info), source=None,
        )  # fmt: skip


def receive_polled_cap_alert(
    *, desk: Desk, xml: bytes | str, category: str | None, source: dict
) -> CapIntake | None:
    """The system receives an alert from a source it polls (a national agency's CAP feed).

    No person acts: ``desk`` (a desk of the state the source speaks for) leads a crisis the
    alert opens, and the timeline names the ``source`` (its agency and address). The same
    alert (sender + identifier) already held, on any crisis, is a duplicate; an alert
    referencing one we hold is attached to its crisis; otherwise it opens a reported crisis
    of ``category`` when the caller decided one (a protocol's trigger matched), and with
    ``category`` None nothing is written and None is returned (a Cancel of nothing we hold
    too). An ``Exercise`` alert opens only an exercise crisis; one referencing an alert on
    the other side of the drill line is refused (InvalidInput). Parse refusals raise
    InvalidInput as for :func:`ingest_cap_alert`. One transaction; a concurrent receipt of
    the same alert fails on the unique constraint and leaves nothing written.
    """
    message, info = parse_for_intake(xml)
    raw = cap.document_text(xml)
    everything = Crisis.objects.all()
    with transaction.atomic():
        earlier = _received_before(message, everything)
        if earlier is not None:
            return CapIntake(crisis=earlier.crisis, outcome=CapOutcome.DUPLICATE, alert=earlier)
        referenced = _referenced_alert(message, everything)
        if referenced is None and (category is None or message.msg_type == "Cancel"):
            return None
        return _take(
            message, info, raw, by=None, desk=desk, referenced=referenced, category=category,
            source=source,
        )  # fmt: skip


def _take(message, info, raw, *, by, desk, referenced, category, source) -> CapIntake:
    """Attach to the referenced alert's crisis or open one, keep the document, record it.

    Called inside the intake's transaction, after the duplicate check."""
    exercise = is_exercise(message)
    if referenced is not None:
        _require_same_side(referenced.crisis, exercise=exercise)
        crisis, outcome = lock_crisis(referenced.crisis), CapOutcome.ATTACHED
    else:
        crisis = _open_from(info, by=by, desk=desk, category=category, exercise=exercise)
        outcome = CapOutcome.OPENED
    alert = _keep(message, raw, crisis=crisis, desk=desk)
    payload = {
        "alert_id": alert.pk,
        "identifier": message.identifier,
        "sender": message.sender,
        "msg_type": message.msg_type,
        "event": info.event,
        "severity": info.severity,
        "status": message.status,
    }
    if source is not None:
        payload["source"] = source
    timeline.record(kind="cap_received", crisis=crisis, actor=by, desk=desk, payload=payload)
    if outcome == CapOutcome.OPENED:
        issue_cap_alert(crisis)
    announce(crisis, "cap_received", outcome=str(outcome))
    return CapIntake(crisis=crisis, outcome=outcome, alert=alert)


# --- the steps ---


def parse_for_intake(xml: bytes | str) -> tuple[cap.CapMessage, cap.CapInfo]:
    """The message and its first ``<info>``, if it describes an actual event (else
    InvalidInput naming the element)."""
    message = cap.parse_alert(xml)
    if message.msg_type in ("Ack", "Error"):
        raise InvalidInput(
            _(
                "A CAP %(message_msg_type)s does not describe an event; post an Alert, "
                "Update or Cancel."
            )
            % {"message_msg_type": message.msg_type},
            code="invalid_cap",
            details={"element": "alert/msgType"},
        )
    if message.status not in INTAKE_STATUSES:
        raise InvalidInput(
            _(
                "A CAP alert with status %(message_status)s does not open a crisis; only "
                "Actual alerts (and Exercise alerts, which open an exercise crisis) do."
            )
            % {"message_status": message.status},
            code="invalid_cap",
            details={"element": "alert/status"},
        )
    if not message.infos:
        raise InvalidInput(
            _("Not a valid CAP 1.2 alert for intake: it has no <info> describing the event."),
            code="invalid_cap",
            details={"element": "alert/info"},
        )
    return message, message.infos[0]


def is_exercise(message: cap.CapMessage) -> bool:
    """Whether the alert belongs to a drill (CAP status ``Exercise``)."""
    return message.status == "Exercise"


def _require_same_side(crisis: Crisis, *, exercise: bool) -> None:
    """A real alert never joins an exercise crisis, nor an exercise alert a real one."""
    if crisis.exercise != exercise:
        raise InvalidInput(
            (
                "This Exercise alert refers to an alert of a real crisis; an exercise never "
                "joins a real crisis."
            )
            if exercise
            else (
                "This Actual alert refers to an alert of an exercise crisis; real traffic "
                "never joins a drill."
            ),
            code="invalid_cap",
            details={"element": "alert/status"},
        )


def _received_before(message: cap.CapMessage, visible: QuerySet[Crisis]) -> CapAlert | None:
    """The same alert (sender and identifier) received earlier, if any.

    One the caller may not see is refused rather than returned, so posting an alert
    never reveals a hidden crisis.
    """
    earlier = (
        CapAlert.objects.filter(
            direction=CapDirection.RECEIVED, sender=message.sender, identifier=message.identifier
        )
        .select_related("crisis")
        .first()
    )
    if earlier is not None and not visible.filter(pk=earlier.crisis_id).exists():
        raise Conflict(
            _("Alert %(message_identifier)s from %(message_sender)s was already received.")
            % {"message_identifier": message.identifier, "message_sender": message.sender},
            code="cap_already_received",
        )
    return earlier


def _referenced_alert(message: cap.CapMessage, visible: QuerySet[Crisis]) -> CapAlert | None:
    """The latest alert we hold, on a crisis the caller sees, that ``message`` references."""
    if not message.references:
        return None
    match = Q()
    for sender, identifier, _sent in message.references:
        match |= Q(sender=sender, identifier=identifier)
    return CapAlert.objects.filter(match, crisis__in=visible).order_by("-id").first()


def _cancel_of_nothing() -> InvalidInput:
    """A Cancel must reference an alert we hold: it has nothing to open."""
    return InvalidInput(
        "This Cancel refers to no alert we hold.",
        code="invalid_cap",
        details={"element": "alert/references"},
    )


def _open_from(info: cap.CapInfo, *, by, desk: Desk, category: str, exercise: bool) -> Crisis:
    """Open a reported crisis of ``category`` from the alert's info: states from the desk
    and geocodes."""
    codes = state_codes_in(info)
    if desk.state_id:
        codes.insert(0, desk.state.code)
    members = set(MemberState.objects.filter(code__in=codes).values_list("code", flat=True))
    if not members:
        raise InvalidInput(
            _(
                "The alert names no member state: add an <area><geocode> with valueName "
                "%(iso3_geocode)s and a member state's alpha-3 code, or post it from a "
                "national desk."
            )
            % {"iso3_geocode": ISO3_GEOCODE},
            code="invalid_cap",
            details={"element": "alert/info/area/geocode"},
        )
    point = next((p for p in map(cap.point_of, info.areas) if p), None)
    return open_reported_crisis(
        by=by,
        desk=desk,
        category=category,
        title=(info.headline or info.event)[:200],
        severity=CAP_TO_SEVERITY[info.severity],
        states=member_states_named([c for c in codes if c in members]),
        description="\n\n".join(x for x in (info.description, info.instruction) if x),
        lat=parse_coordinate(point[0], "latitude", 90) if point else None,
        lon=parse_coordinate(point[1], "longitude", 180) if point else None,
        admin_area=", ".join(a.area_desc for a in info.areas),
        exercise=exercise,
    )


def _keep(message: cap.CapMessage, raw: str, *, crisis: Crisis, desk: Desk) -> CapAlert:
    """Keep the document verbatim with its parsed fields."""
    return CapAlert.objects.create(
        direction=CapDirection.RECEIVED,
        crisis=crisis,
        identifier=message.identifier,
        sender=message.sender,
        sent_at=message.sent,
        status=message.status,
        msg_type=message.msg_type,
        references=" ".join(",".join(r) for r in message.references),
        parsed=message.as_json(),
        raw_xml=raw,
        desk=desk,
    )
