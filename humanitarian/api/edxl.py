"""EDXL-RM 1.0 over the API: each record as a message in an EDXL-DE envelope, and intake.

Thin: read the record through the caller's selector (hidden and missing are both 404),
describe it (``humanitarian.services.edxl``), wrap it (``humanitarian.edxl_rm.envelope``).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import record_read
from core.api import AccessMixin
from core.errors import NotFound
from core.parsers import raw_xml_parsers
from humanitarian import edxl_rm
from humanitarian.models import PledgeStatus
from humanitarian.selectors import pledges_visible_to, requests_visible_to
from humanitarian.services import edxl

XML_RESPONSE = {(200, "application/xml"): OpenApiTypes.STR}
ID = OpenApiParameter("id", int, OpenApiParameter.PATH)


#: EDXL-RM is read strictly by ``edxl_rm.parse``; the parsers only bound the body.
RM_PARSERS = raw_xml_parsers(what=gettext_lazy("EDXL document"), max_bytes=edxl_rm.MAX_BYTES)


def _xml(request, message: edxl_rm.RMMessage, *, object_type: str, object_id: int):
    response = HttpResponse(
        edxl_rm.envelope(message), content_type="application/xml; charset=utf-8"
    )
    name = f"{message.message_id.rsplit(':', 2)[-2]}-{message.message_type}.xml"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    record_read(
        user=request.user,
        what="humanitarian.edxl_rm",
        object_type=object_type,
        object_id=object_id,
        details={"message_type": message.message_type},
    )
    return response


def _one(queryset, pk: int, what: str):
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        missing = {
            "request": _("No such request."),
            "pledge": _("No such pledge."),
            "delivery": _("No such delivery."),
        }
        raise NotFound(missing[what], details={"id": pk})
    return obj


class RequestRMView(AccessMixin, APIView):
    @extend_schema(
        summary="An assistance request as EDXL-RM RequestResource (in EDXL-DE)",
        operation_id="v1_humanitarian_requests_edxl_rm",
        parameters=[ID],
        responses={**XML_RESPONSE, 404: OpenApiResponse(description="No such request")},
    )
    def get(self, request, id: int):
        req = _one(requests_visible_to(self.access).select_related("crisis"), id, "request")
        return _xml(request, edxl.request_message(req), object_type="request", object_id=req.pk)


def _pledges(access):
    return pledges_visible_to(access).select_related("crisis", "request", "pledging_desk")


class PledgeRMView(AccessMixin, APIView):
    @extend_schema(
        summary="A pledge as EDXL-RM ResponseToRequestResource (standalone offer: "
        "OfferUnsolicitedResource), in EDXL-DE",
        operation_id="v1_humanitarian_pledges_edxl_rm",
        parameters=[ID],
        responses={**XML_RESPONSE, 404: OpenApiResponse(description="No such pledge")},
    )
    def get(self, request, id: int):
        pledge = _one(_pledges(self.access), id, "pledge")
        return _xml(request, edxl.pledge_message(pledge), object_type="pledge", object_id=pledge.pk)


class CommitRMView(AccessMixin, APIView):
    @extend_schema(
        summary="An accepted pledge as EDXL-RM CommitResource (in EDXL-DE)",
        description="409 `not_committed` while the pledge is not accepted.",
        operation_id="v1_humanitarian_pledges_commit_edxl_rm",
        parameters=[ID],
        responses={
            **XML_RESPONSE,
            404: OpenApiResponse(description="No such pledge"),
            409: OpenApiResponse(description="Not accepted yet"),
        },
    )
    def get(self, request, id: int):
        pledge = _one(_pledges(self.access), id, "pledge")
        return _xml(request, edxl.commit_message(pledge), object_type="pledge", object_id=pledge.pk)


class DeliveryRMView(AccessMixin, APIView):
    @extend_schema(
        summary="A delivery as EDXL-RM ReportResourceDeploymentStatus (in EDXL-DE)",
        operation_id="v1_humanitarian_deliveries_edxl_rm",
        parameters=[ID],
        responses={**XML_RESPONSE, 404: OpenApiResponse(description="No such delivery")},
    )
    def get(self, request, id: int):
        deployed = _pledges(self.access).filter(
            status__in=[PledgeStatus.DISPATCHED, PledgeStatus.DELIVERED]
        )
        pledge = _one(deployed, id, "delivery")
        message = edxl.deployment_message(pledge)
        return _xml(request, message, object_type="pledge", object_id=pledge.pk)


class ImportResultSerializer(serializers.Serializer):
    message_id = serializers.CharField(source="message.message_id")
    message_type = serializers.CharField(source="message.message_type")
    created = serializers.BooleanField(help_text="False: this message id was imported before.")
    request = serializers.IntegerField(allow_null=True, source="message.request_id")
    pledge = serializers.IntegerField(allow_null=True, source="message.pledge_id")


REQUEST_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<EDXLDistribution xmlns="urn:oasis:names:tc:emergency:EDXL:DE:1.0">
  <distributionID>urn:uuid:6f1c0c3e-1d7e-4f55-9d6e-0c1f2b1b7a10</distributionID>
  <senderID>eoc.partner.example.org</senderID>
  <dateTimeSent>2026-11-24T08:30:00+07:00</dateTimeSent>
  <distributionStatus>Actual</distributionStatus>
  <distributionType>Request</distributionType>
  <combinedConfidentiality>UNCLASSIFIED AND NOT SENSITIVE</combinedConfidentiality>
  <contentObject><xmlContent><embeddedXMLContent>
    <RequestResource xmlns="urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"
                     xmlns:rm="urn:oasis:names:tc:emergency:EDXL:RM:1.0">
      <MessageID>urn:partner:req:0042</MessageID>
      <SentDateTime>2026-11-24T08:30:00+07:00</SentDateTime>
      <MessageContentType>RequestResource</MessageContentType>
      <IncidentInformation><rm:IncidentDescription>Floods</rm:IncidentDescription>
        <rm:IncidentID>CR-2026-00012</rm:IncidentID></IncidentInformation>
      <ContactInformation><rm:ContactDescription>THA-DDPM</rm:ContactDescription>
        <rm:ContactRole>Sender</rm:ContactRole></ContactInformation>
      <ResourceInformation>
        <rm:ResourceInfoElementID>1</rm:ResourceInfoElementID>
        <rm:Resource><rm:TypeStructure>
          <rm:ValueListURN>urn:x-crisis-hotline:humanitarian:item</rm:ValueListURN>
          <rm:Value>family_tent</rm:Value></rm:TypeStructure></rm:Resource>
        <rm:AssignmentInformation><rm:Quantity><rm:MeasuredQuantity>
          <rm:Amount>500</rm:Amount><rm:UnitOfMeasure>piece</rm:UnitOfMeasure>
        </rm:MeasuredQuantity></rm:Quantity></rm:AssignmentInformation>
        <rm:ScheduleInformation><rm:ScheduleType>RequestedArrival</rm:ScheduleType>
          <rm:DateTime>2026-11-26T00:00:00+07:00</rm:DateTime></rm:ScheduleInformation>
      </ResourceInformation>
    </RequestResource>
  </embeddedXMLContent></xmlContent></contentObject>
</EDXLDistribution>"""


class RMImportView(AccessMixin, APIView):
    parser_classes = RM_PARSERS

    @extend_schema(
        summary="Import an EDXL-RM 1.0 message (bare or in EDXL-DE)",
        description=(
            "Carries the message out as the caller, for the desk named by the query "
            "parameter `desk` (default: the caller's first writing desk): RequestResource "
            "opens a request; OfferUnsolicitedResource offers capacity; "
            "ResponseToRequestResource pledges against the request its PrecedingMessageID "
            "names; CommitResource accepts the pledge it names; "
            "ReportResourceDeploymentStatus marks it dispatched or delivered. 201 with what "
            "it made; 200 if this MessageID was imported before (nothing done again); 400 "
            "naming the element for a document we do not accept; nothing is written on any "
            "error."
        ),
        parameters=[OpenApiParameter("desk", str, description="The desk you act for")],
        request={"application/xml": OpenApiTypes.STR},
        responses={201: ImportResultSerializer, 200: ImportResultSerializer},
        examples=[
            OpenApiExample(
                "A request", request_only=True, media_type="application/xml", value=REQUEST_EXAMPLE
            )
        ],
    )
    def post(self, request):
        result = edxl.import_rm_message(
            by=request.user,
            desk=self.access.acting_desk(request.query_params.get("desk")),
            document=request.data if isinstance(request.data, bytes) else b"",
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(ImportResultSerializer(result).data, status=code)
