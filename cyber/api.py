"""Cyber items and STIX 2.1 bundles of a crisis over the API. Thin: parse, call, render."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import record_read
from core.api import AccessMixin
from core.errors import InvalidInput
from core.tlp import TLP
from cyber import services, stix
from cyber.models import CyberItem, ItemKind
from cyber.selectors import items_visible_to, visible_crisis

ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The crisis")
DESK = OpenApiParameter("desk", str, description="The desk you act for (its code)")


class ItemSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    tlp_label = serializers.CharField(source="get_tlp_display", read_only=True)
    shared_by = serializers.SlugRelatedField(slug_field="code", read_only=True)
    recipients = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    stix = serializers.SerializerMethodField()

    class Meta:
        model = CyberItem
        fields = [
            "id",
            "kind",
            "kind_label",
            "stix_id",
            "name",
            "tlp",
            "tlp_label",
            "recipients",
            "shared_by",
            "imported",
            "created_at",
            "stix",
        ]

    def get_stix(self, item) -> dict:
        """The STIX 2.1 object itself."""
        return item.stix["object"]


class ObservableSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=stix.SCO_TYPES)
    value = serializers.CharField(max_length=2048, help_text="For a file: its SHA-256 hash")


class ItemCreateSerializer(serializers.Serializer):
    desk = serializers.CharField(required=False, max_length=32)
    kind = serializers.ChoiceField(choices=ItemKind.choices)
    tlp = serializers.ChoiceField(choices=TLP.choices)
    recipients = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        max_length=50,
        help_text="TLP:RED only: the desks (codes) it is for; the sharing desk is one.",
    )
    name = serializers.CharField(required=False, allow_blank=True, max_length=250)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    pattern = serializers.CharField(
        required=False, max_length=5000, help_text="Indicator: a STIX pattern"
    )
    indicator_types = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=10
    )
    valid_from = serializers.DateTimeField(required=False)
    observables = ObservableSerializer(many=True, required=False)
    first_observed = serializers.DateTimeField(required=False)
    last_observed = serializers.DateTimeField(required=False)
    number_observed = serializers.IntegerField(required=False, min_value=1, max_value=999_999_999)
    external_id = serializers.CharField(
        required=False, max_length=64, help_text="Attack pattern: e.g. MITRE ATT&CK T1566"
    )
    sighting_of = serializers.CharField(
        required=False, max_length=100, help_text="Sighting: the STIX id sighted"
    )
    count = serializers.IntegerField(required=False, min_value=0, max_value=999_999_999)
    first_seen = serializers.DateTimeField(required=False)
    last_seen = serializers.DateTimeField(required=False)


class BundleSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["bundle"])
    id = serializers.CharField(max_length=100, help_text="bundle--<uuid>")
    objects = serializers.ListField(child=serializers.DictField(), max_length=stix.MAX_OBJECTS)


class ImportSummarySerializer(serializers.Serializer):
    created = ItemSerializer(many=True)
    already_had = serializers.ListField(child=serializers.CharField())


def _input(serializer_class, data):
    if not isinstance(data, dict):
        raise InvalidInput(_("The body must be a JSON object."))
    checked = serializer_class(data=data)
    checked.is_valid(raise_exception=True)
    return checked.validated_data


class CyberItemsView(AccessMixin, APIView):
    """Indicators, observed data, attack patterns and sightings shared in a crisis."""

    @extend_schema(
        summary="The crisis's cyber items the caller may read (TLP:RED: recipients only)",
        parameters=[ID],
        responses={200: ItemSerializer(many=True)},
    )
    def get(self, request, id: int):
        crisis = visible_crisis(self.access, id)
        return Response(ItemSerializer(items_visible_to(self.access, crisis), many=True).data)

    @extend_schema(
        summary="Share a STIX 2.1 object in a cyber crisis (CERT desks and coordinators)",
        parameters=[ID],
        request=ItemCreateSerializer,
        responses={201: ItemSerializer},
    )
    def post(self, request, id: int):
        crisis = visible_crisis(self.access, id)
        self.access.acting_desk()  # read-only people: 403 before the body is read
        data = dict(_input(ItemCreateSerializer, request.data))
        desk = self.access.acting_desk(data.pop("desk", None))
        item = services.add_item(by=request.user, desk=desk, crisis=crisis, **data)
        shown = items_visible_to(self.access, crisis).get(pk=item.pk)
        return Response(ItemSerializer(shown).data, status=status.HTTP_201_CREATED)


class StixBundleView(AccessMixin, APIView):
    """The crisis's cyber items as one STIX 2.1 bundle, out and in."""

    @extend_schema(
        summary="The crisis's cyber items as a STIX 2.1 bundle (what the caller may read)",
        description=(
            "Each object carries its TLP 2.0 marking (object_marking_refs) and the bundle "
            "holds the marking definitions used. TLP:RED objects are in it only for their "
            "named recipients."
        ),
        parameters=[ID],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, id: int):
        crisis = visible_crisis(self.access, id)
        bundle = services.export_bundle(self.access, crisis)
        record_read(
            user=request.user,
            what="cyber.stix_export",
            object_type="crisis",
            object_id=crisis.pk,
            details={"objects": len(bundle["objects"])},
        )
        return Response(bundle)

    @extend_schema(
        summary="Import a STIX 2.1 bundle into a cyber crisis (CERT desks and coordinators)",
        description=(
            "Indicators, observed data, attack patterns and sightings become items of the "
            "crisis, with the observables and identities they refer to. Every object must "
            "carry one TLP marking (TLP 2.0, or STIX's TLP 1.0). All or nothing: a bad "
            "object refuses the bundle (400 naming it); objects the crisis already has are "
            "left as they are (`already_had`)."
        ),
        parameters=[ID, DESK],
        request=BundleSerializer,
        responses={201: ImportSummarySerializer, 200: ImportSummarySerializer},
    )
    def post(self, request, id: int):
        crisis = visible_crisis(self.access, id)
        desk = self.access.acting_desk(request.query_params.get("desk"))
        _input(BundleSerializer, request.data)
        summary = services.import_bundle(
            by=request.user, desk=desk, crisis=crisis, bundle=request.data
        )
        body = ImportSummarySerializer(summary).data
        code = status.HTTP_201_CREATED if summary.created else status.HTTP_200_OK
        return Response(body, status=code)
