"""Crisis protocols over the API: read the rules; authors edit drafts (published = 409)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from audit.services import record_read
from core.api import AccessMixin
from core.errors import InvalidInput
from crisis import protocol_io
from crisis.models import ChecklistItem, EscalationLevel, Protocol, ProtocolVersion
from crisis.protocol_selectors import (
    protocol_detail_queryset,
    protocol_versions_visible_to,
    protocols_visible_to,
)
from crisis.services import protocol_rules as rules
from crisis.services import protocols as services
from crisis.snapshot import LevelSnapshot, ProtocolSnapshot


class LevelSerializer(serializers.ModelSerializer):
    notify_desks = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = EscalationLevel
        fields = [
            "order",
            "name",
            "timeout_seconds",
            "notify_scopes",
            "notify_roles",
            "notify_desks",
            "notify_agency_types",
            "actions",
        ]


class ChecklistItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChecklistItem
        fields = ["order", "party_role", "title", "description", "due_after_minutes"]


class PreviewRowSerializer(serializers.Serializer):
    at_seconds = serializers.IntegerField()
    at = serializers.CharField()
    event = serializers.ChoiceField(choices=["notify", "repeat", "unanswered"])
    level = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    who = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())
    deadline = serializers.CharField()


class VersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ProtocolVersion
        fields = ["id", "number", "status", "published_at", "retired_at"]


class VersionSerializer(serializers.ModelSerializer):
    protocol = serializers.PrimaryKeyRelatedField(read_only=True)
    created_from = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )
    levels = LevelSerializer(many=True, read_only=True)
    checklist = ChecklistItemSerializer(many=True, read_only=True)
    preview = serializers.SerializerMethodField()

    class Meta:
        model = ProtocolVersion
        fields = [
            "id",
            "protocol",
            "number",
            "status",
            "notes",
            "repeat_last_level",
            "max_repeats",
            "ack_timeout_seconds",
            "created_from",
            "created_at",
            "published_at",
            "retired_at",
            "levels",
            "checklist",
            "preview",
        ]

    @extend_schema_field(PreviewRowSerializer(many=True))
    def get_preview(self, version) -> list[dict]:
        snapshot = ProtocolSnapshot(
            repeat_last_level=version.repeat_last_level,
            max_repeats=version.max_repeats,
            levels=tuple(LevelSnapshot.of(level) for level in version.levels.all()),
        )
        return rules.ladder_preview(snapshot)


class ProtocolSerializer(serializers.ModelSerializer):
    published_version = serializers.SerializerMethodField()
    version_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Protocol
        fields = ["id", "name", "category", "description", "published_version", "version_count"]

    @extend_schema_field(VersionSummarySerializer(allow_null=True))
    def get_published_version(self, protocol) -> dict | None:
        published = protocol.published_versions
        return VersionSummarySerializer(published[0]).data if published else None


class ProtocolDetailSerializer(ProtocolSerializer):
    versions = VersionSerializer(many=True, read_only=True, source="shown_versions")

    class Meta(ProtocolSerializer.Meta):
        fields = [*ProtocolSerializer.Meta.fields, "versions"]


class VersionPatchSerializer(serializers.Serializer):
    """Change a draft. ``levels`` / ``checklist`` replace the whole ladder / checklist and use
    the protocol file's shape (``timeout_minutes`` or ``timeout_seconds``, desks by code)."""

    notes = serializers.CharField(required=False, allow_blank=True)
    repeat_last_level = serializers.BooleanField(required=False)
    max_repeats = serializers.IntegerField(required=False, min_value=0, max_value=rules.MAX_REPEATS)
    ack_timeout_seconds = serializers.IntegerField(
        required=False, min_value=1, max_value=rules.MAX_TIMEOUT_SECONDS, allow_null=True
    )
    levels = serializers.ListField(child=serializers.DictField(), required=False)
    checklist = serializers.ListField(child=serializers.DictField(), required=False)


LEVELS_EXAMPLE = [
    {
        "order": 1,
        "name": "Affected states' duty operators",
        "timeout_seconds": 600,
        "notify_scopes": ["affected"],
        "notify_roles": ["operator"],
        "notify_desks": [],
        "actions": ["alert_regional_centre"],
    },
    {
        "order": 2,
        "name": "Affected supervisors and the AHA Centre",
        "timeout_seconds": 900,
        "notify_scopes": ["affected", "regional"],
        "notify_roles": ["supervisor", "coordinator"],
        "notify_desks": [],
        "actions": ["open_crisis_room"],
    },
]
VERSION_EXAMPLE = {
    "id": 7,
    "protocol": 3,
    "number": 2,
    "status": "published",
    "notes": "Level 2 now includes the AHA Centre.",
    "repeat_last_level": True,
    "max_repeats": 3,
    "ack_timeout_seconds": 3600,
    "created_from": 1,
    "created_at": "2026-11-20T08:00:00Z",
    "published_at": "2026-11-21T09:30:00Z",
    "retired_at": None,
    "levels": LEVELS_EXAMPLE,
    "checklist": [
        {
            "order": 1,
            "party_role": "affected",
            "title": "Send the initial report (SASOP Form 1) to the AHA Centre",
            "description": "",
            "due_after_minutes": 60,
        }
    ],
    "preview": [
        {
            "at_seconds": 0,
            "at": "T+0",
            "event": "notify",
            "level": 1,
            "name": "Affected states' duty operators",
            "who": "operators at desks of the affected states",
            "actions": ["Alert the regional coordination centre"],
            "deadline": "T+10 min",
        }
    ],
}
EXPORT_DESCRIPTION = "The protocol file: YAML with `as=yaml` (the default), JSON with `as=json`."
PROTOCOL_EXAMPLE = {
    "id": 3,
    "name": "Maritime incident",
    "category": "maritime",
    "description": "Ferry collision, vessel in distress, oil spill at sea.",
    "published_version": {
        "id": 7,
        "number": 2,
        "status": "published",
        "published_at": "2026-11-21T09:30:00Z",
        "retired_at": None,
    },
    "version_count": 2,
}


@extend_schema_view(
    list=extend_schema(
        summary="Crisis protocols and their published version",
        examples=[
            OpenApiExample(
                "A page of protocols",
                value={"count": 1, "next": None, "previous": None, "results": [PROTOCOL_EXAMPLE]},
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="A protocol with its versions, ladders and checklists",
        responses=ProtocolDetailSerializer,
        examples=[
            OpenApiExample(
                "Maritime incident",
                value={**PROTOCOL_EXAMPLE, "versions": [VERSION_EXAMPLE]},
                response_only=True,
            )
        ],
    ),
)
class ProtocolViewSet(AccessMixin, viewsets.ReadOnlyModelViewSet):
    """Crisis protocols: for one kind of crisis, who is told in what order and what to do.

    Everybody signed in reads published and retired versions; drafts are shown to
    protocol authors only.
    """

    serializer_class = ProtocolSerializer
    filterset_fields = ["category"]

    def get_queryset(self):
        if self.action == "retrieve":
            return protocol_detail_queryset(self.access)
        return protocols_visible_to(self.access)

    def get_serializer_class(self):
        return ProtocolDetailSerializer if self.action == "retrieve" else ProtocolSerializer


@extend_schema_view(
    list=extend_schema(summary="Versions of a protocol, newest first"),
    retrieve=extend_schema(
        summary="One version: ladder, checklist and the ladder as a timeline",
        examples=[OpenApiExample("Published v2", value=VERSION_EXAMPLE, response_only=True)],
    ),
    partial_update=extend_schema(
        summary="Change a draft (protocol authors); a published version answers 409",
        request=VersionPatchSerializer,
        responses={
            200: VersionSerializer,
            400: OpenApiResponse(description="A field is wrong; the message names it."),
            403: OpenApiResponse(description="Not a protocol author."),
            409: OpenApiResponse(
                description="The version is published or retired (`version_immutable`)."
            ),
        },
        examples=[
            OpenApiExample(
                "Shorten level 1",
                value={
                    "notes": "Level 1 answers in 5 minutes.",
                    "levels": [
                        {
                            "order": 1,
                            "name": "Affected states' duty operators",
                            "timeout_minutes": 5,
                            "notify_scopes": ["affected"],
                            "notify_roles": ["operator"],
                        }
                    ],
                },
                request_only=True,
            ),
            OpenApiExample(
                "Refused: published",
                value={
                    "code": "version_immutable",
                    "message": "Maritime incident v2 (published) is published: it cannot be "
                    "changed; make a new draft from it.",
                    "details": {"version": 7, "status": "published"},
                },
                response_only=True,
                status_codes=["409"],
            ),
        ],
    ),
)
class ProtocolVersionViewSet(AccessMixin, viewsets.GenericViewSet):
    """Versions of one protocol, by number (``/protocols/{protocol_id}/versions/{number}/``)."""

    serializer_class = VersionSerializer
    lookup_field = "number"
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request kwargs
            return ProtocolVersion.objects.none()
        get_object_or_404(protocols_visible_to(self.access), pk=self.kwargs["protocol_id"])
        return protocol_versions_visible_to(self.access, protocol_id=self.kwargs["protocol_id"])

    def list(self, request, protocol_id: int):
        return Response(VersionSerializer(self.get_queryset(), many=True).data)

    def retrieve(self, request, protocol_id: int, number: int):
        return Response(VersionSerializer(self.get_object()).data)

    def partial_update(self, request, protocol_id: int, number: int):
        version = self.get_object()
        services.check_draft_editable(by=request.user, version=version)
        data = VersionPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        levels, checklist = protocol_io.parse_ladder(
            levels=changes.pop("levels", None), checklist=changes.pop("checklist", None)
        )
        services.update_draft(
            by=request.user, version=version, changes=changes, levels=levels, checklist=checklist
        )
        return Response(VersionSerializer(self.get_object()).data)

    @extend_schema(
        summary="The version as a protocol file (YAML or JSON) for review or re-import",
        parameters=[
            OpenApiParameter("as", str, enum=[*protocol_io.FORMATS], description="yaml or json")
        ],
        # One document, two encodings: the schema describes the parsed file either way.
        responses={
            (200, "application/yaml"): OpenApiResponse(OpenApiTypes.OBJECT, EXPORT_DESCRIPTION),
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, EXPORT_DESCRIPTION),
        },
    )
    @action(detail=True, methods=["get"])
    def export(self, request, protocol_id: int, number: int):
        fmt = request.query_params.get("as", "yaml")
        if fmt not in protocol_io.FORMATS:
            raise InvalidInput(
                _("Unknown export format %(fmt)s: use yaml or json.") % {"fmt": repr(fmt)},
                details={"field": "as"},
            )
        version = self.get_object()
        record_read(
            user=request.user,
            what="crisis.protocol_export",
            object_type="protocol_version",
            object_id=version.pk,
            details={"format": fmt},
        )
        return protocol_io.export_response(version, fmt)
