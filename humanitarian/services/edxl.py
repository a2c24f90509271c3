"""EDXL-RM out of our records and into them: the assistance services, spoken in XML.

Export: :func:`request_message`, :func:`pledge_message`, :func:`commit_message` and
:func:`deployment_message` describe a record as an :class:`~humanitarian.edxl_rm.RMMessage`
(``edxl_rm.envelope`` wraps it in EDXL-DE). Reading them needs nothing but the record:
who may read the record is the selector's business (the API reads through it).

Import: :func:`import_rm_message` reads one message and carries it out through the same
service a person would call (``create_request``, ``make_pledge``, ``offer_capacity``,
``accept_pledge``, ``dispatch_pledge``, ``confirm_delivery``), acting for the importer's
desk with the importer's rights — a message cannot make anyone act for a desk they are
not on. One transaction: the record and the note of the message are written together or
not at all. A message id already imported answers with what it made (nothing new); a
message whose id is one of ours is an echo and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound
from crisis.models import Crisis
from crisis.selectors import crises_visible_to
from directory.access import access_for
from directory.models import Desk
from humanitarian import edxl_rm
from humanitarian.edxl_rm import RMMessage
from humanitarian.models import (
    ITEMS,
    AssistanceRequest,
    Pledge,
    PledgeStatus,
    Priority,
    ReceivedRMMessage,
)
from humanitarian.services import assistance


# --- export ---------------------------------------------------------------------------------
def _contact(desk: Desk) -> str:
    return f"{desk.code} — {desk.name}"


def _base(message_type: str, reference: str, crisis: Crisis, desk: Desk, **fields) -> RMMessage:
    if not fields.get("scheduled_at") and not fields.get("location"):
        fields["schedule_type"] = ""  # nothing scheduled: no ScheduleInformation
    return RMMessage(
        message_type=message_type,
        message_id=edxl_rm.message_id(reference, message_type),
        sent_at=timezone.now(),
        sender_id=edxl_rm.sender_id(),
        incident_id=crisis.reference,
        incident_description=crisis.title,
        contact=_contact(desk),
        **fields,
    )


def _resource(record) -> dict:
    return {
        "item": record.item,
        "item_label": ITEMS[record.item].label,
        "unit": record.unit,
    }


def request_message(req: AssistanceRequest) -> RMMessage:
    """A request as a RequestResource (its own thread: OriginatingMessageID is itself)."""
    own = edxl_rm.message_id(req.reference, edxl_rm.REQUEST)
    return _base(
        edxl_rm.REQUEST,
        req.reference,
        req.crisis,
        req.requesting_desk,
        originating_message_id=own,
        description=req.notes,
        quantity=req.quantity,
        priority=req.priority,
        admin1_code=req.admin1_code,
        location=req.location,
        schedule_type="RequestedArrival",
        scheduled_at=req.needed_by,
        **_resource(req),
    )


def pledge_message(pledge: Pledge) -> RMMessage:
    """A pledge: a ResponseToRequestResource answering its request, or, standalone, an
    OfferUnsolicitedResource. The ResponseType follows the pledge: ``Provisional`` while
    offered (the requester has not committed), ``Accept`` once accepted (and dispatched or
    delivered), ``Decline`` when declined or withdrawn."""
    common = {
        "quantity": pledge.quantity,
        "restrictions": pledge.conditions,
        "schedule_type": "EstimatedArrival",
        "scheduled_at": pledge.eta,
        **_resource(pledge),
    }
    if pledge.request_id is None:
        own = edxl_rm.message_id(pledge.reference, edxl_rm.OFFER)
        return _base(
            edxl_rm.OFFER,
            pledge.reference,
            pledge.crisis,
            pledge.pledging_desk,
            originating_message_id=own,
            **common,
        )
    request_id = edxl_rm.message_id(pledge.request.reference, edxl_rm.REQUEST)
    if pledge.status in (PledgeStatus.DECLINED, PledgeStatus.WITHDRAWN):
        answer = "Decline"
    elif pledge.status == PledgeStatus.OFFERED:
        answer = "Provisional"
    else:
        answer = "Accept"
    return _base(
        edxl_rm.RESPONSE,
        pledge.reference,
        pledge.crisis,
        pledge.pledging_desk,
        originating_message_id=request_id,
        preceding_message_id=request_id,
        response_type=answer,
        **common,
    )


def _offered_id(pledge: Pledge) -> str:
    kind = edxl_rm.OFFER if pledge.request_id is None else edxl_rm.RESPONSE
    return edxl_rm.message_id(pledge.reference, kind)


def _require_committed(pledge: Pledge, what: str) -> None:
    if pledge.status not in (
        PledgeStatus.ACCEPTED,
        PledgeStatus.DISPATCHED,
        PledgeStatus.DELIVERED,
    ):
        raise Conflict(
            _(
                "%(pledge_reference)s is %(status)s: there is no %(what)s to send until "
                "it is accepted."
            )
            % {
                "pledge_reference": pledge.reference,
                "status": pledge.get_status_display().lower(),
                "what": what,
            },
            code="not_committed",
            details={"pledge": pledge.pk, "status": pledge.status},
        )


def commit_message(pledge: Pledge) -> RMMessage:
    """The requester's acceptance of a pledge as a CommitResource (409 before acceptance)."""
    _require_committed(pledge, "commitment")
    req = pledge.request
    return _base(
        edxl_rm.COMMIT,
        pledge.reference,
        pledge.crisis,
        req.requesting_desk if req else pledge.pledging_desk,
        originating_message_id=edxl_rm.message_id(req.reference, edxl_rm.REQUEST) if req else "",
        preceding_message_id=_offered_id(pledge),
        quantity=pledge.quantity_accepted,
        restrictions=pledge.conditions,
        schedule_type="EstimatedArrival",
        scheduled_at=pledge.eta,
        **_resource(pledge),
    )


def deployment_message(pledge: Pledge) -> RMMessage:
    """A dispatched or delivered pledge as a ReportResourceDeploymentStatus."""
    if pledge.status not in (PledgeStatus.DISPATCHED, PledgeStatus.DELIVERED):
        raise Conflict(
            _(
                "%(pledge_reference)s is %(status)s: it has not been dispatched, so "
                "there is no deployment to report."
            )
            % {"pledge_reference": pledge.reference, "status": pledge.get_status_display().lower()},
            code="not_deployed",
            details={"pledge": pledge.pk, "status": pledge.status},
        )
    delivered = pledge.status == PledgeStatus.DELIVERED
    req = pledge.request
    return _base(
        edxl_rm.DEPLOYMENT,
        pledge.reference,
        pledge.crisis,
        req.requesting_desk if delivered and req else pledge.pledging_desk,
        originating_message_id=edxl_rm.message_id(req.reference, edxl_rm.REQUEST) if req else "",
        preceding_message_id=edxl_rm.message_id(pledge.reference, edxl_rm.COMMIT),
        deployment_status="delivered" if delivered else "dispatched",
        quantity=pledge.quantity_received if delivered else pledge.quantity_accepted,
        schedule_type="ActualArrival" if delivered else "EstimatedArrival",
        scheduled_at=pledge.delivered_at if delivered else pledge.eta,
        **_resource(pledge),
    )


# --- import ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportResult:
    message: ReceivedRMMessage
    created: bool  # False: this message id was imported before; nothing was done again


def _require(value, element: str, what: str):
    if value in (None, ""):
        raise edxl_rm.BadRMMessage(
            _("%(element)s: %(what)s") % {"element": element, "what": what},
            details={"element": element},
        )
    return value


def _crisis(access, message: RMMessage) -> Crisis:
    reference = _require(
        message.incident_id,
        f"{message.message_type}/IncidentInformation/IncidentID",
        _("the crisis reference (e.g. CR-2026-00012) is required."),
    )
    crisis = crises_visible_to(access).filter(reference=reference).first()
    if crisis is None:
        raise NotFound(
            _("No crisis with reference %(reference)s.") % {"reference": repr(reference)},
            details={"incident_id": reference},
        )
    return crisis


def _item(message: RMMessage) -> tuple[str, str]:
    where = f"{message.message_type}/ResourceInformation/Resource/TypeStructure"
    code = _require(message.item, where, _("the resource type (an item code) is required."))
    item = ITEMS.get(code)
    if item is None:
        raise edxl_rm.BadRMMessage(
            _(
                "%(where)s/Value: unknown item %(code)s; use an item code from the "
                "catalogue (GET /api/v1/humanitarian/catalogue/)."
            )
            % {"where": where, "code": repr(code)},
            details={"element": f"{where}/Value"},
        )
    if message.unit and message.unit != item.unit:
        raise edxl_rm.BadRMMessage(
            _(
                "UnitOfMeasure: %(code)s is counted in '%(item_unit)s', not "
                "%(message_unit)s (quantities are not converted)."
            )
            % {"code": code, "item_unit": item.unit, "message_unit": repr(message.unit)},
            details={"element": "UnitOfMeasure"},
        )
    return item.sector, code


def _quantity(message: RMMessage) -> int:
    return _require(
        message.quantity,
        f"{message.message_type}/ResourceInformation/AssignmentInformation/Quantity",
        _("the quantity is required."),
    )


def _replied_record(message: RMMessage, kind: str):
    """The request (``kind`` REQ) or pledge (PLG) the message's PrecedingMessageID names."""
    element = f"{message.message_type}/PrecedingMessageID"
    preceding = _require(
        message.preceding_message_id, element, _("say which message this one answers.")
    )
    ours = edxl_rm.record_of(preceding)
    model = AssistanceRequest if kind == "REQ" else Pledge
    if ours is not None and ours[0] == kind:
        return model, ours[1]
    received = ReceivedRMMessage.objects.filter(message_id=preceding).first()
    record_id = received and (received.request_id if kind == "REQ" else received.pledge_id)
    if not record_id:
        what = "request" if kind == "REQ" else "pledge"
        raise NotFound(
            _("%(element)s: %(preceding)s names no %(what)s known here.")
            % {"element": element, "preceding": repr(preceding), "what": what},
            details={"element": element, "preceding_message_id": preceding},
        )
    return model, record_id


def _carry_out(by, desk: Desk, access, message: RMMessage) -> tuple[int | None, int | None]:
    """Call the service the message stands for; return (request id, pledge id)."""
    kind = message.message_type
    if kind == edxl_rm.REQUEST:
        sector, item = _item(message)
        priority = message.priority or Priority.NORMAL
        if priority not in Priority.values:
            raise edxl_rm.BadRMMessage(
                _(
                    "Keyword %(edxl_rm_priority_list_urn)s: unknown priority %(priority)s; "
                    "use %(priority_values)s."
                )
                % {
                    "edxl_rm_priority_list_urn": edxl_rm.PRIORITY_LIST_URN,
                    "priority": repr(priority),
                    "priority_values": ", ".join(Priority.values),
                },
                details={"element": "Keyword"},
            )
        needed_by = _require(
            message.scheduled_at,
            f"{kind}/ResourceInformation/ScheduleInformation/DateTime",
            _("say when the resource is needed (ScheduleType RequestedArrival)."),
        )
        req = assistance.create_request(
            by=by,
            desk=desk,
            crisis=_crisis(access, message),
            sector=sector,
            item=item,
            quantity=_quantity(message),
            needed_by=needed_by,
            priority=priority,
            location=message.location,
            admin1_code=message.admin1_code[:20],
            notes=message.description,
            submit=True,
        )
        return req.pk, None
    if kind == edxl_rm.OFFER:
        sector, item = _item(message)
        pledge = assistance.offer_capacity(
            by=by,
            desk=desk,
            crisis=_crisis(access, message),
            sector=sector,
            item=item,
            quantity=_quantity(message),
            eta=message.scheduled_at,
            conditions=message.restrictions,
        )
        return None, pledge.pk
    if kind == edxl_rm.RESPONSE:
        if message.response_type == "Decline":
            raise edxl_rm.BadRMMessage(
                _(
                    "%(kind)s/ResponseInformation/ResponseType: a Decline offers nothing, so "
                    "there is no pledge to record."
                )
                % {"kind": kind},
                details={"element": f"{kind}/ResponseInformation/ResponseType"},
            )
        _record, request_id = _replied_record(message, "REQ")
        req = AssistanceRequest.objects.filter(pk=request_id).first()
        if req is not None and message.item and message.item != req.item:
            raise edxl_rm.BadRMMessage(
                _(
                    "%(kind)s/ResourceInformation/Resource/TypeStructure: the request is for "
                    "%(req_item)s, the response offers %(message_item)s."
                )
                % {"kind": kind, "req_item": repr(req.item), "message_item": repr(message.item)},
                details={"element": f"{kind}/ResourceInformation/Resource/TypeStructure"},
            )
        pledge = assistance.make_pledge(
            by=by,
            desk=desk,
            request_id=request_id,
            quantity=_quantity(message),
            eta=message.scheduled_at,
            conditions=message.restrictions,
        )
        return request_id, pledge.pk
    _record, pledge_id = _replied_record(message, "PLG")
    if kind == edxl_rm.COMMIT:
        pledge = assistance.accept_pledge(by=by, pledge_id=pledge_id, quantity=message.quantity)
        return pledge.request_id, pledge.pk
    # ReportResourceDeploymentStatus
    status = message.deployment_status
    element = f"{kind}/ResourceInformation/Resource/ResourceStatus/DeploymentStatus"
    if status == "dispatched":
        pledge = assistance.dispatch_pledge(by=by, pledge_id=pledge_id, eta=message.scheduled_at)
    elif status == "delivered":
        pledge = assistance.confirm_delivery(
            by=by, pledge_id=pledge_id, quantity_received=_quantity(message)
        )
    else:
        raise edxl_rm.BadRMMessage(
            _(
                "%(element)s: give %(edxl_rm_deployment_statuses)s (value list "
                "%(edxl_rm_deployment_list_urn)s), not %(status)s."
            )
            % {
                "element": element,
                "edxl_rm_deployment_statuses": " or ".join(edxl_rm.DEPLOYMENT_STATUSES),
                "edxl_rm_deployment_list_urn": edxl_rm.DEPLOYMENT_LIST_URN,
                "status": repr(status),
            },
            details={"element": element},
        )
    return pledge.request_id, pledge.pk


def import_rm_message(*, by, desk: Desk, document: bytes) -> ImportResult:
    """Carry out one EDXL-RM message (bare or in EDXL-DE) for ``desk``; see the module doc.

    Raises ``InvalidInput`` (400) for a document that is not a message we accept, and the
    service's own errors (403/404/409) for what the message asks; nothing is written then.
    """
    message = edxl_rm.parse(document)
    if edxl_rm.record_of(message.message_id) is not None:
        raise Conflict(
            _(
                "%(message_message_id)s was sent by this service; importing it would "
                "copy our own record."
            )
            % {"message_message_id": repr(message.message_id)},
            code="own_message",
            details={"message_id": message.message_id},
        )
    access = access_for(by)
    access.require_act_for(desk)
    seen = ReceivedRMMessage.objects.filter(message_id=message.message_id).first()
    if seen is not None:
        return ImportResult(message=seen, created=False)
    try:
        with transaction.atomic():
            request_id, pledge_id = _carry_out(by, desk, access, message)
            received = ReceivedRMMessage.objects.create(
                message_id=message.message_id,
                message_type=message.message_type,
                sender=message.contact[:255],
                sent_at=message.sent_at,
                request_id=request_id,
                pledge_id=pledge_id,
                desk=desk,
                received_by=by,
            )
    except IntegrityError as exc:  # the same message id, imported at the same moment
        raise Conflict(
            _("This message is being imported by another request; look it up again."),
            code="import_in_progress",
            details={"message_id": message.message_id},
        ) from exc
    return ImportResult(message=received, created=True)
