"""REST endpoints for humanitarian assistance. Thin: parse, call a service or selector, render."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import record_read
from core.api import AccessMixin
from core.errors import InvalidInput, error_body
from core.parsers import BoundedJSONParser
from core.streaming import stream
from crisis.exercise import REAL
from humanitarian.api import filters as f
from humanitarian.api import serializers as s
from humanitarian.models import ITEMS, PledgeStatus
from humanitarian.selectors import (
    displacement_visible_to,
    import_jobs_visible_to,
    occupancy_visible_to,
    pledges_visible_to,
    requests_visible_to,
    shelters_visible_to,
    situation_reports_visible_to,
    standby_assets_visible_to,
    suggest_standby_assets,
    visible_crisis,
)
from humanitarian.services import assistance, displacement, exports, gaps, shelters, standby


class HumanitarianView(AccessMixin):
    def acting_desk(self, data: dict):
        # A named desk is checked by the service (require_act_for), like every write.
        return data.get("desk") or self.access.acting_desk()

    def crisis_from(self, data: dict):
        return visible_crisis(self.access, data["crisis"])

    def input(self, serializer_class):
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data

    def done(self, obj, code=status.HTTP_200_OK) -> Response:
        """Answer a write with the record as this view lists it to the caller."""
        return read_back(self.get_queryset(), self.get_serializer_class(), obj, code)


def read_back(queryset, serializer_class, obj, code=status.HTTP_200_OK) -> Response:
    """Render ``obj`` re-read through a caller-scoped ``queryset``.

    A service returns the row it wrote; reading it back through the selector gives the
    serializer the related rows it expects (no query per field) and never shows the
    caller more than the list would.
    """
    return Response(serializer_class(queryset.get(pk=obj.pk)).data, status=code)


# --- requests -----------------------------------------------------------------------------


class RequestViewSet(HumanitarianView, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Requests for assistance (EDXL-RM RequestResource)."""

    serializer_class = s.RequestSerializer
    filterset_class = f.RequestFilter

    def get_queryset(self):
        return requests_visible_to(self.access).order_by("-created_at", "-id")

    @extend_schema(request=s.RequestCreateSerializer, responses={201: s.RequestSerializer})
    def create(self, request, *args, **kwargs):
        data = self.input(s.RequestCreateSerializer)
        crisis = self.crisis_from(data)
        req = assistance.create_request(
            by=request.user,
            desk=self.acting_desk(data),
            crisis=crisis,
            **{k: v for k, v in data.items() if k not in ("crisis", "desk")},
        )
        return self.done(req, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.RequestSerializer})
    @action(detail=True, methods=["post"], url_path="open")
    def open_(self, request, pk=None):
        """Publish a draft request."""
        return self.done(assistance.open_request(by=request.user, request_id=self.get_object().pk))

    @extend_schema(request=s.ReasonSerializer, responses={200: s.RequestSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        data = self.input(s.ReasonSerializer)
        obj = self.get_object()
        return self.done(assistance.close_request(by=request.user, request_id=obj.pk, **data))

    @extend_schema(request=s.ReasonSerializer, responses={200: s.RequestSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = self.input(s.ReasonSerializer)
        obj = self.get_object()
        return self.done(assistance.cancel_request(by=request.user, request_id=obj.pk, **data))

    @extend_schema(request=None, responses={200: s.SuggestionSerializer(many=True)})
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def suggestions(self, request, pk=None):
        """Standby assets of other states that match this need, best first."""
        found = suggest_standby_assets(access=self.access, request=self.get_object())
        return Response(s.SuggestionSerializer(found, many=True).data)


# --- pledges ------------------------------------------------------------------------------


class PledgeViewSet(HumanitarianView, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Pledges and standalone offers (ResponseToRequestResource / OfferUnsolicitedResource)."""

    serializer_class = s.PledgeSerializer
    filterset_class = f.PledgeFilter

    def get_queryset(self):
        return pledges_visible_to(self.access).order_by("-offered_at", "-id")

    @extend_schema(request=s.PledgeCreateSerializer, responses={201: s.PledgeSerializer})
    def create(self, request, *args, **kwargs):
        data = self.input(s.PledgeCreateSerializer)
        desk = self.acting_desk(data)
        common = {
            "quantity": data["quantity"],
            "eta": data["eta"],
            "conditions": data["conditions"],
        }
        if data.get("request") is not None:
            pledge = assistance.make_pledge(
                by=request.user, desk=desk, request_id=data["request"], **common
            )
        else:
            pledge = assistance.offer_capacity(
                by=request.user,
                desk=desk,
                crisis=self.crisis_from(data),
                sector=data["sector"],
                item=data["item"],
                **common,
            )
        return self.done(pledge, status.HTTP_201_CREATED)

    @extend_schema(request=s.AcceptSerializer, responses={200: s.PledgeSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The requester accepts (commits). 409 ``over_commit`` if it would exceed the need."""
        data = self.input(s.AcceptSerializer)
        obj = self.get_object()
        return self.done(assistance.accept_pledge(by=request.user, pledge_id=obj.pk, **data))

    @extend_schema(request=s.ReasonSerializer, responses={200: s.PledgeSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        data = self.input(s.ReasonSerializer)
        obj = self.get_object()
        return self.done(assistance.decline_pledge(by=request.user, pledge_id=obj.pk, **data))

    @extend_schema(request=s.ReasonSerializer, responses={200: s.PledgeSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        data = self.input(s.ReasonSerializer)
        obj = self.get_object()
        return self.done(assistance.withdraw_pledge(by=request.user, pledge_id=obj.pk, **data))

    @extend_schema(request=s.DispatchSerializer, responses={200: s.PledgeSerializer})
    @action(detail=True, methods=["post"], url_path="dispatch")
    def dispatch_pledge(self, request, pk=None):
        """The pledging state sends an accepted pledge (EDXL-RM ReleaseResource)."""
        data = self.input(s.DispatchSerializer)
        obj = self.get_object()
        return self.done(assistance.dispatch_pledge(by=request.user, pledge_id=obj.pk, **data))

    @extend_schema(request=s.DeliverySerializer, responses={200: s.PledgeSerializer})
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        """The requester confirms receipt, with the quantity received."""
        data = self.input(s.DeliverySerializer)
        obj = self.get_object()
        return self.done(assistance.confirm_delivery(by=request.user, pledge_id=obj.pk, **data))

    @extend_schema(request=s.ClaimSerializer, responses={201: s.PledgeSerializer})
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """Claim (part of) a standalone offer for one of your requests."""
        data = self.input(s.ClaimSerializer)
        obj = self.get_object()
        pledge = assistance.claim_offer(
            by=request.user,
            offer_id=obj.pk,
            request_id=data["request"],
            quantity=data["quantity"],
            accept_surplus=data["accept_surplus"],
        )
        return self.done(pledge, status.HTTP_201_CREATED)


class DeliveryViewSet(HumanitarianView, viewsets.ReadOnlyModelViewSet):
    """Deliveries: pledges dispatched or delivered (ReleaseResource / deployment status)."""

    serializer_class = s.PledgeSerializer
    filterset_class = f.PledgeFilter

    def get_queryset(self):
        return (
            pledges_visible_to(self.access)
            .filter(status__in=[PledgeStatus.DISPATCHED, PledgeStatus.DELIVERED])
            .order_by("-dispatched_at", "-id")
        )


# --- standby assets -----------------------------------------------------------------------


class StandbyAssetViewSet(HumanitarianView, viewsets.ReadOnlyModelViewSet):
    """The regional standby-asset register (edited in the admin)."""

    serializer_class = s.StandbyAssetSerializer
    filterset_class = f.StandbyAssetFilter

    def get_queryset(self):
        return standby_assets_visible_to(self.access)

    @extend_schema(request=s.OfferFromAssetSerializer, responses={201: s.PledgeSerializer})
    @action(detail=True, methods=["post"])
    def offer(self, request, pk=None):
        """Pledge this asset against a request in one call."""
        data = self.input(s.OfferFromAssetSerializer)
        pledge = standby.offer_from_asset(
            by=request.user,
            asset_id=self.get_object().pk,
            request_id=data["request"],
            quantity=data["quantity"],
            eta=data["eta"],
            conditions=data["conditions"],
        )
        return read_back(
            pledges_visible_to(self.access), s.PledgeSerializer, pledge, status.HTTP_201_CREATED
        )


# --- shelters -----------------------------------------------------------------------------


class ShelterViewSet(
    HumanitarianView,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Shelter sites; every update adds an occupancy reading."""

    serializer_class = s.ShelterSerializer
    filterset_class = f.ShelterFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return shelters_visible_to(self.access)

    @extend_schema(request=s.ShelterCreateSerializer, responses={201: s.ShelterSerializer})
    def create(self, request, *args, **kwargs):
        data = self.input(s.ShelterCreateSerializer)
        shelter = shelters.register_shelter(
            by=request.user,
            desk=self.acting_desk(data),
            crisis=self.crisis_from(data),
            **{k: v for k, v in data.items() if k not in ("crisis", "desk")},
        )
        return self.done(shelter, status.HTTP_201_CREATED)

    @extend_schema(request=s.ShelterUpdateSerializer, responses={200: s.ShelterSerializer})
    def partial_update(self, request, *args, **kwargs):
        data = self.input(s.ShelterUpdateSerializer)
        obj = self.get_object()
        return self.done(shelters.update_shelter(by=request.user, shelter_id=obj.pk, **data))

    @extend_schema(responses={200: s.OccupancySerializer(many=True)})
    @action(detail=True, methods=["get"], filterset_class=None)
    def occupancy(self, request, pk=None):
        """Occupancy readings over time (oldest first), for drawing."""
        readings = occupancy_visible_to(self.access, self.get_object())
        page = self.paginate_queryset(readings)
        return self.get_paginated_response(s.OccupancySerializer(page, many=True).data)


# --- displacement -------------------------------------------------------------------------


class DisplacementViewSet(HumanitarianView, viewsets.ReadOnlyModelViewSet):
    """Displacement figures (IOM DTM shape)."""

    serializer_class = s.DisplacementSerializer
    filterset_class = f.DisplacementFilter

    def get_queryset(self):
        return displacement_visible_to(self.access)


class ImportJobViewSet(HumanitarianView, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """CSV/HXL imports of displacement figures: all rows or none, with a row-by-row report."""

    serializer_class = s.ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]
    filterset_class = None

    def get_queryset(self):
        return import_jobs_visible_to(self.access)

    @extend_schema(
        request=s.ImportCreateSerializer,
        responses={
            201: OpenApiResponse(s.ImportJobSerializer, description="Imported (small file)."),
            202: OpenApiResponse(s.ImportJobSerializer, description="Queued (large file)."),
            400: OpenApiResponse(  # the Error body (core.errors.declare_error_responses)
                description="Bad rows: nothing written. details.errors lists row and column.",
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        data = self.input(s.ImportCreateSerializer)
        upload = data.get("file")
        job = displacement.start_import(
            by=request.user,
            desk=self.acting_desk(data),
            crisis=self.crisis_from(data),
            content=upload or data["content"],
            filename=upload.name if upload else "",
        )
        body = s.ImportJobSerializer(job).data
        if job.status == "failed":
            count = len({e["row"] for e in job.errors})
            first = body["errors"][0]
            return Response(
                error_body(
                    "import_rejected",
                    ngettext(
                        "%(count)d row has errors; nothing was written. First: row %(row)s, "
                        "column %(column)s: %(problem)s.",
                        "%(count)d rows have errors; nothing was written. First: row %(row)s, "
                        "column %(column)s: %(problem)s.",
                        count,
                    )
                    % {
                        "count": count,
                        "row": first["row"],
                        "column": first["column"],
                        "problem": first["message"],
                    },
                    {"job": body, "errors": body["errors"]},
                ),
                status=status.HTTP_400_BAD_REQUEST,
            )
        code = status.HTTP_201_CREATED if job.status == "succeeded" else status.HTTP_202_ACCEPTED
        return Response(body, status=code)


# --- gaps, exports, reports ---------------------------------------------------------------

CRISIS_PARAM = OpenApiParameter("crisis", int, required=True, description="Crisis id")
SECTOR_PARAM = OpenApiParameter("sector", str, description="Sector code", required=False)


def _crisis_param(request) -> int:
    raw = request.query_params.get("crisis", "")
    if not raw.isdigit():
        raise InvalidInput(
            _("Say which crisis: ?crisis=<id>."), details={"fields": {"crisis": ["required"]}}
        )
    return int(raw)


class GapAnalysisView(HumanitarianView, APIView):
    """Requested vs pledged vs accepted vs delivered, per sector and item; overdue needs."""

    @extend_schema(parameters=[CRISIS_PARAM, SECTOR_PARAM], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        figures = gaps.gap_analysis(
            access=self.access,
            crisis_id=_crisis_param(request),
            sector=request.query_params.get("sector") or None,
        )
        return Response(figures)


class GapSummaryView(HumanitarianView, APIView):
    """The gap analysis as a printable HTML page."""

    @extend_schema(
        parameters=[CRISIS_PARAM, SECTOR_PARAM],
        responses={(200, "text/html"): OpenApiTypes.STR},
    )
    def get(self, request):
        figures = gaps.gap_analysis(
            access=self.access,
            crisis_id=_crisis_param(request),
            sector=request.query_params.get("sector") or None,
        )
        # With the request: its CSP nonce lets the page's own <style> element apply.
        html = render_to_string("humanitarian/gap_summary.html", {"g": figures}, request=request)
        return HttpResponse(html, content_type="text/html; charset=utf-8")


EXPORT_SOURCES = {
    "requests": (requests_visible_to, f.RequestFilter),
    "pledges": (pledges_visible_to, f.PledgeFilter),
    "deliveries": (pledges_visible_to, f.PledgeFilter),
    "shelters": (shelters_visible_to, f.ShelterFilter),
    "displacement": (displacement_visible_to, f.DisplacementFilter),
}


class HxlExportView(HumanitarianView, APIView):
    """HXL 1.1-tagged CSV (human header row, hashtag row, data) of what the caller sees.

    The list filters apply (crisis, sector, status, state …).
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=sorted(EXPORT_SOURCES)),
            OpenApiParameter("crisis", int, required=False),
            OpenApiParameter("sector", str, required=False),
            OpenApiParameter("status", str, required=False),
            OpenApiParameter("state", str, required=False),
            OpenApiParameter(
                "exercise",
                str,
                required=False,
                enum=["false", "true", "all"],
                description="Default `false` (real crises only) unless `crisis` is given.",
            ),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request, kind: str):
        if kind not in EXPORT_SOURCES:
            raise InvalidInput(
                _("Unknown export %(kind)s; one of %(items)s.")
                % {"kind": repr(kind), "items": ", ".join(sorted(EXPORT_SOURCES))},
                code="unknown_export",
            )
        selector, filterset_class = EXPORT_SOURCES[kind]
        params = request.query_params.copy()
        if not params.get("exercise") and not params.get("crisis"):
            # A data set shared onward counts real crises only unless a drill is asked for
            # (by its crisis, or ?exercise=true|all).
            params["exercise"] = REAL
        filterset = filterset_class(params, queryset=selector(self.access))
        if not filterset.is_valid():
            raise InvalidInput(_("Bad filter."), details={"fields": filterset.errors})
        chunks = exports.hxl_csv_chunks(exports.EXPORTS[kind], filterset.qs)
        response = StreamingHttpResponse(stream(chunks), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="{kind}-{stamp}.hxl.csv"'
        record_read(
            user=request.user,
            what="humanitarian.hxl_export",
            object_type="hxl_export",
            object_id=kind,
            details={"query": request.query_params.urlencode()[:500]},
        )
        return response


class SituationReportViewSet(HumanitarianView, viewsets.ReadOnlyModelViewSet):
    """Daily situation reports (posted by the daily Celery task)."""

    serializer_class = s.SituationReportSerializer
    filterset_fields = ["crisis"]

    def get_queryset(self):
        return situation_reports_visible_to(self.access)

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"])
    def text(self, request, pk=None):
        """The report as plain text, for download."""
        report = self.get_object()
        response = HttpResponse(report.text, content_type="text/plain; charset=utf-8")
        name = f"sitrep-{report.crisis.reference}-{report.report_date}.txt"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class CatalogueView(generics.GenericAPIView):
    """Sectors and the fixed item catalogue, with units."""

    serializer_class = s.CatalogueItemSerializer
    pagination_class = None
    filter_backends = []  # a fixed list in code, not a queryset: nothing to filter

    @extend_schema(responses=s.CatalogueItemSerializer(many=True))
    def get(self, request):
        return Response(s.CatalogueItemSerializer(list(ITEMS.values()), many=True).data)
