"""Crises over REST: list/report/detail, lifecycle actions, tasks, participants, situation
updates, the timeline (cursor-paginated), CAP 1.2 export and intake.

Thin: serializers check shape, ``crisis.services.crises`` decides, ``crisis.selectors``
scopes every read to the caller.
"""

from __future__ import annotations

import django_filters
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from audit.services import record_read
from core.api import AccessMixin
from core.errors import InvalidInput, NotFound
from core.parsers import raw_xml_parsers
from core.tlp import TLP
from crisis import cap
from crisis.exercise import ALL, EXERCISE_HELP, exercise_scope, scoped
from crisis.models import (
    CapAlert,
    CapDirection,
    Crisis,
    CrisisCategory,
    CrisisParticipant,
    CrisisStatus,
    CrisisTask,
    ParticipantRole,
    SituationUpdate,
    TimelineEntry,
)
from crisis.selectors import crises_visible_to, is_party_to, updates_of
from crisis.services import cap_intake, escalation
from crisis.services import crises as services
from crisis.snapshot import ProtocolSnapshot
from directory.models import Desk, MemberState
from idempotency.api import IDEMPOTENCY_KEY, idempotent

# --- serializers ---


class SituationUpdateSerializer(serializers.ModelSerializer):
    desk = serializers.SlugRelatedField(slug_field="code", read_only=True)
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SituationUpdate
        fields = [
            "id",
            "desk",
            "author",
            "conditions",
            "actions",
            "needs",
            "tlp",
            "tlp_label",
            "posted_at",
        ]

    tlp_label = serializers.CharField(read_only=True, help_text="The marking as written.")


class CrisisSerializer(serializers.ModelSerializer):
    lead_desk = serializers.SlugRelatedField(slug_field="code", read_only=True)
    reported_by_desk = serializers.SlugRelatedField(slug_field="code", read_only=True)
    affected_states = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    severity_name = serializers.CharField(source="get_severity_display", read_only=True)
    latest_update = SituationUpdateSerializer(read_only=True, allow_null=True)
    protocol = serializers.SerializerMethodField()

    class Meta:
        model = Crisis
        fields = [
            "id",
            "reference",
            "title",
            "category",
            "severity",
            "severity_name",
            "status",
            "description",
            "exercise",
            "reported_by_desk",
            "lead_desk",
            "affected_states",
            "latitude",
            "longitude",
            "admin_area",
            "protocol",
            "escalation_state",
            "current_level",
            "level_entered_at",
            "level_deadline_at",
            "latest_update",
            "reported_at",
            "activated_at",
            "resolved_at",
            "closed_at",
            "updated_at",
        ]

    def get_protocol(self, crisis) -> dict | None:
        snap = ProtocolSnapshot.of(crisis)
        if not snap.is_bound:
            return None
        return {
            "name": snap.protocol_name or None,
            "version": snap.version_number,
            "levels": [
                {"order": lv.order, "name": lv.name, "timeout_seconds": lv.timeout_seconds}
                for lv in snap.levels
            ],
        }


class ParticipantSerializer(serializers.ModelSerializer):
    desk = serializers.SlugRelatedField(slug_field="code", read_only=True)
    desk_name = serializers.CharField(source="desk.name", read_only=True)

    class Meta:
        model = CrisisParticipant
        fields = ["desk", "desk_name", "role", "joined_at"]


class CrisisDetailSerializer(CrisisSerializer):
    participants = ParticipantSerializer(many=True, read_only=True)

    class Meta(CrisisSerializer.Meta):
        fields = [*CrisisSerializer.Meta.fields, "participants"]


class ActingDeskField(serializers.CharField):
    """The desk the caller acts for, by code; optional when they work on one desk."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault(
            "help_text", "Code of the desk you act for (default: your first writing desk)."
        )
        super().__init__(**kwargs)


class ReportSerializer(serializers.Serializer):
    desk = ActingDeskField()
    category = serializers.ChoiceField(choices=CrisisCategory.choices)
    title = serializers.CharField(max_length=200)
    severity = serializers.IntegerField(help_text="1 Minor … 5 Catastrophic")
    affected_states = serializers.ListField(
        child=serializers.CharField(max_length=3), allow_empty=True
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")
    exercise = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Start a drill: an exercise crisis, marked as such on every surface, for good.",
    )
    latitude = serializers.DecimalField(
        max_digits=8, decimal_places=5, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=8, decimal_places=5, required=False, allow_null=True
    )
    admin_area = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)


class TransitionSerializer(serializers.Serializer):
    desk = ActingDeskField()
    to = serializers.ChoiceField(choices=CrisisStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ActingSerializer(serializers.Serializer):
    desk = ActingDeskField()


class StopEscalationSerializer(serializers.Serializer):
    desk = ActingDeskField()
    reason = serializers.CharField(max_length=2000)


class ProgressSerializer(serializers.Serializer):
    desk = ActingDeskField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class SeveritySerializer(serializers.Serializer):
    desk = ActingDeskField()
    severity = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ParticipantInputSerializer(serializers.Serializer):
    desk = serializers.CharField(max_length=32, help_text="Code of the desk to add or change.")
    role = serializers.ChoiceField(choices=ParticipantRole.choices)
    acting_desk = ActingDeskField()


class SituationUpdateInputSerializer(serializers.Serializer):
    desk = ActingDeskField()
    conditions = serializers.CharField(max_length=10000)
    actions = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    needs = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    tlp = serializers.ChoiceField(
        choices=TLP.choices,
        required=False,
        help_text="TLP 2.0 marking; GREEN unless given. RED: only the crisis's parties of now.",
    )


class TaskSerializer(serializers.ModelSerializer):
    desk = serializers.SlugRelatedField(slug_field="code", read_only=True)
    done_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    is_done = serializers.BooleanField(read_only=True)

    class Meta:
        model = CrisisTask
        fields = [
            "id",
            "desk",
            "item_order",
            "party_role",
            "title",
            "description",
            "due_at",
            "assignee",
            "is_done",
            "done_at",
            "done_by",
        ]


class TimelineEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    desk = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = TimelineEntry
        fields = ["seq", "kind", "at", "actor", "desk", "payload", "prev_hash", "hash"]


class CapAlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = CapAlert
        fields = ["id", "direction", "identifier", "sender", "sent_at", "msg_type", "references"]


# --- filters, pagination, parsers ---


class CrisisFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CrisisStatus.choices)
    severity = django_filters.NumberFilter()
    severity_min = django_filters.NumberFilter(field_name="severity", lookup_expr="gte")
    category = django_filters.ChoiceFilter(choices=CrisisCategory.choices)
    state = django_filters.CharFilter(
        method="filter_state", help_text="Affected state, ISO 3166-1 alpha-3 (e.g. THA)."
    )
    reported = django_filters.DateFromToRangeFilter(
        field_name="reported_at", help_text="reported_after / reported_before (YYYY-MM-DD)."
    )
    exercise = django_filters.CharFilter(method="filter_exercise", help_text=EXERCISE_HELP)

    class Meta:
        model = Crisis
        fields = ["status", "severity", "category"]

    def filter_exercise(self, queryset, name, value):
        return scoped(queryset, exercise_scope(value, default=ALL))

    def filter_state(self, queryset, name, value):
        code = value.strip().upper()
        if not MemberState.objects.filter(code=code).exists():
            raise InvalidInput(
                _(
                    "Unknown state code %(value)s: use an ISO 3166-1 alpha-3 code of a "
                    "member state, e.g. THA."
                )
                % {"value": repr(value)},
                code="unknown_state",
                details={"state": value},
            )
        return queryset.filter(affected_states__code=code).distinct()


class TimelinePagination(CursorPagination):
    ordering = "seq"
    page_size = 100


#: CAP documents are read strictly by crisis.cap; the parsers only bound the body.
CAP_PARSERS = raw_xml_parsers(
    what=gettext_lazy("CAP document"),
    max_bytes=cap.MAX_BYTES,
    media_types=("application/xml", "text/xml", "application/cap+xml"),
)


def acting_desk(access, code: str | None) -> Desk:
    """The desk the caller acts for (see :meth:`directory.access.Access.acting_desk`)."""
    return access.acting_desk(code)


CRISIS_EXAMPLE = {
    "desk": "THA-DDPM",
    "category": "maritime",
    "title": "Collision of a tanker and a fishing vessel, Strait of Malacca",
    "severity": 3,
    "affected_states": ["THA", "MYS"],
    "description": "Tanker MT Andaman Star and fishing vessel collided at 04:10 local time.",
    "latitude": "6.12000",
    "longitude": "99.45000",
    "admin_area": "TH-91 Satun",
}
ERRORS = {
    400: OpenApiResponse(description='Bad input: `{"code", "message", "details"}`'),
    403: OpenApiResponse(description="Your role may not do this"),
    404: OpenApiResponse(description="No such crisis (or not visible to you)"),
    409: OpenApiResponse(description="Not allowed in the crisis's current state"),
}


# --- views ---


@extend_schema_view(
    list=extend_schema(summary="Crises visible to you, newest first"),
    retrieve=extend_schema(summary="One crisis with its participants"),
)
class CrisisViewSet(
    AccessMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Crises: a desk sees those its state reports or is affected by (the centre sees all)."""

    lookup_value_regex = r"\d+"
    filterset_class = CrisisFilter
    queryset = Crisis.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self):
        crises = crises_visible_to(self.access).select_related(
            "latest_update__desk", "latest_update__author"
        )
        crises = crises.prefetch_related("affected_states")
        if self.action == "retrieve":
            crises = crises.prefetch_related("participants__desk")
        return crises

    def get_serializer_class(self):
        return CrisisDetailSerializer if self.action == "retrieve" else CrisisSerializer

    def retrieve(self, request, *args, **kwargs):
        crisis = self.get_object()
        if self.access.sees_all_states and not is_party_to(self.access, crisis):
            record_read(
                user=request.user,
                what="crisis.read_not_party",
                object_type="crisis",
                object_id=crisis.pk,
            )
        return Response(self.get_serializer(crisis).data)

    def _crisis(self) -> Crisis:
        """The crisis of a detail action, through the selector (hidden == missing)."""
        crisis = crises_visible_to(self.access).filter(pk=self.kwargs["pk"]).first()
        if crisis is None:
            raise NotFound(_("No such crisis."))
        return crisis

    def _detail(self, crisis: Crisis, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().prefetch_related("participants__desk").get(pk=crisis.pk)
        return Response(CrisisDetailSerializer(fresh).data, status=code)

    def _act(self, serializer_class, service, **fields: str) -> Response:
        """Validate the body, call ``service`` for the caller's acting desk, show the crisis.

        ``fields`` maps the service's keyword arguments to the serializer's field names.
        """
        crisis = self._crisis()
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        crisis = service(
            by=self.request.user,
            desk=acting_desk(self.access, values.get("desk")),
            crisis=crisis,
            **{arg: values[name] for arg, name in fields.items()},
        )
        return self._detail(crisis)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        summary="Report a crisis",
        request=ReportSerializer,
        responses={201: CrisisDetailSerializer, **ERRORS},
        examples=[OpenApiExample("Maritime incident", value=CRISIS_EXAMPLE, request_only=True)],
    )
    @idempotent
    def create(self, request):
        data = ReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        crisis = services.report_crisis(
            by=request.user,
            desk=acting_desk(self.access, values.get("desk")),
            category=values["category"],
            title=values["title"],
            severity=values["severity"],
            affected_state_codes=values["affected_states"],
            description=values["description"],
            latitude=values.get("latitude"),
            longitude=values.get("longitude"),
            admin_area=values["admin_area"],
            exercise=values["exercise"],
        )
        return self._detail(crisis, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        summary="Move the crisis along its lifecycle",
        description=(
            "reported → active (activate) or closed (dismiss, reason required); active → "
            "de_escalating; de_escalating → active (re-escalate, reason required) or resolved; "
            "resolved → closed. See docs/crises.md for who may do each."
        ),
        request=TransitionSerializer,
        responses={200: CrisisDetailSerializer, **ERRORS},
        examples=[
            OpenApiExample("Activate", value={"to": "active"}, request_only=True),
            OpenApiExample(
                "Dismiss a false alarm",
                value={"to": "closed", "reason": "Duplicate of CR-2026-0003."},
                request_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def transition(self, request, pk=None):
        return self._act(
            TransitionSerializer, services.transition_crisis, to_status="to", reason="reason"
        )

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        summary="Acknowledge the current escalation level for your desk",
        request=ActingSerializer,
        responses={200: CrisisDetailSerializer, **ERRORS},
        examples=[OpenApiExample("Acknowledge", value={"desk": "MYS-NADMA"}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def acknowledge(self, request, pk=None):
        return self._act(ActingSerializer, services.acknowledge_crisis)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        summary="Report progress on an acknowledged escalation (restarts the ack timeout)",
        request=ProgressSerializer,
        responses={200: CrisisDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def progress(self, request, pk=None):
        return self._act(ProgressSerializer, escalation.report_progress, note="note")

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        summary="Stop the escalation (supervisors and coordinators, with a reason)",
        request=StopEscalationSerializer,
        responses={200: CrisisDetailSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Stop",
                value={"reason": "Confirmed false alarm by the coast guard."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="stop-escalation")
    @idempotent
    def stop_escalation(self, request, pk=None):
        return self._act(StopEscalationSerializer, escalation.stop_escalation, reason="reason")

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        summary="Change the severity (recorded on the timeline)",
        request=SeveritySerializer,
        responses={200: CrisisDetailSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Raise",
                value={"severity": 4, "reason": "Oil slick reached the coast."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def severity(self, request, pk=None):
        return self._act(
            SeveritySerializer, services.change_severity, severity="severity", reason="reason"
        )

    @extend_schema(
        methods=["get"], summary="Participating desks", responses=ParticipantSerializer(many=True)
    )
    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        methods=["post"],
        summary="Add a desk or change its role (lead, affected, supporting, observer)",
        request=ParticipantInputSerializer,
        responses={200: ParticipantSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Supporting desk",
                value={"desk": "SGP-SCDF", "role": "supporting"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    @idempotent
    def participants(self, request, pk=None):
        crisis = self._crisis()
        if request.method == "GET":
            rows = crisis.participants.select_related("desk")
            return Response(ParticipantSerializer(rows, many=True).data)
        data = ParticipantInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code = data.validated_data["desk"]
        desk = Desk.objects.filter(code__iexact=code.strip(), is_active=True).first()
        if desk is None:
            raise InvalidInput(
                _("Unknown desk %(code)s.") % {"code": repr(code)}, code="unknown_desk"
            )
        acting = data.validated_data.get("acting_desk")
        participant = services.set_participant(
            by=request.user,
            crisis=crisis,
            desk=desk,
            role=data.validated_data["role"],
            acting_desk=acting_desk(self.access, acting) if acting else None,
        )
        return Response(ParticipantSerializer(participant).data)

    @extend_schema(
        summary="Checklist tasks of every participating desk", responses=TaskSerializer(many=True)
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def tasks(self, request, pk=None):
        crisis = self._crisis()
        rows = crisis.tasks.select_related("desk", "done_by", "assignee").order_by(
            "desk__code", "item_order"
        )
        desk_code = request.query_params.get("desk")
        if desk_code:
            rows = rows.filter(desk__code__iexact=desk_code)
        return Response(TaskSerializer(rows, many=True).data)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        summary="Mark a task done or undone (people of the task's desk)",
        request=None,
        responses={200: TaskSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"tasks/(?P<task_id>\d+)/(?P<verb>done|undone)",
        url_name="task-done",
    )
    @idempotent
    def task_done(self, request, pk=None, task_id=None, verb=None):
        crisis = self._crisis()
        task = crisis.tasks.select_related("desk", "crisis").filter(pk=task_id).first()
        if task is None:
            raise NotFound(_("No such task in this crisis."))
        task = services.set_task_done(by=request.user, task=task, done=verb == "done")
        task = CrisisTask.objects.select_related("desk", "done_by", "assignee").get(pk=task.pk)
        return Response(TaskSerializer(task).data)

    @extend_schema(
        methods=["get"],
        summary="Situation updates, newest first",
        responses=SituationUpdateSerializer(many=True),
    )
    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        methods=["post"],
        summary="Post a situation update (conditions, actions, needs)",
        request=SituationUpdateInputSerializer,
        responses={201: SituationUpdateSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "SASOP situation update",
                value={
                    "conditions": "Oil slick 2 km long drifting south-east; 3 crew missing.",
                    "actions": "Two patrol vessels searching; booms deployed at Ko Lipe.",
                    "needs": "Aerial surveillance; oil dispersant (20 t).",
                },
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get", "post"])
    @idempotent
    def updates(self, request, pk=None):
        crisis = self._crisis()
        if request.method == "GET":
            page = self.paginate_queryset(updates_of(self.access, crisis))
            return self.get_paginated_response(SituationUpdateSerializer(page, many=True).data)
        data = SituationUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        update = services.post_situation_update(
            by=request.user,
            desk=acting_desk(self.access, values.get("desk")),
            crisis=crisis,
            conditions=values["conditions"],
            actions=values["actions"],
            needs=values["needs"],
            tlp=values.get("tlp"),
        )
        return Response(SituationUpdateSerializer(update).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The crisis's hash-chained timeline, oldest first (cursor pagination)",
        responses=TimelineEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=TimelinePagination)
    def timeline(self, request, pk=None):
        crisis = self._crisis()
        rows = TimelineEntry.objects.filter(crisis=crisis).select_related("actor", "desk")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(TimelineEntrySerializer(page, many=True).data)

    @extend_schema(
        summary="CAP alerts received and issued for the crisis",
        responses=CapAlertSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="cap-alerts", pagination_class=None)
    def cap_alerts(self, request, pk=None):
        crisis = self._crisis()
        return Response(CapAlertSerializer(crisis.cap_alerts.order_by("id"), many=True).data)

    @extend_schema(
        summary="The crisis as an OASIS CAP 1.2 alert (the latest issued)",
        operation_id="v1_crises_cap_xml_retrieve",
        description=(
            "The first alert about a crisis has msgType Alert; each later change (status, "
            "severity) issues an Update whose `references` lists every earlier alert."
        ),
        responses={(200, "application/xml"): OpenApiTypes.STR, 404: ERRORS[404]},
    )
    def cap_xml(self, request, pk=None):
        crisis = self._crisis()
        alert = crisis.cap_alerts.filter(direction=CapDirection.ISSUED).order_by("-id").first()
        if alert is None:
            raise NotFound(_("No CAP alert has been issued for this crisis."), code="no_cap_alert")
        response = HttpResponse(alert.raw_xml, content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{alert.identifier}.xml"'
        record_read(
            user=request.user,
            what="crisis.cap_xml",
            object_type="crisis",
            object_id=crisis.pk,
            details={"alert": alert.identifier},
        )
        return response

    @extend_schema(
        summary="CAP intake: open a reported crisis from a CAP 1.2 alert",
        description=(
            "Body: the CAP XML document (Content-Type application/xml, text/xml or "
            "application/cap+xml). An Alert opens a crisis (201); an Update/Cancel referring "
            "to an alert already received is attached to its crisis (200); the same alert "
            "again returns its crisis (200). A malformed or non-CAP document gets 400 naming "
            "the element (`details.element`). Query parameter `desk`: the desk you act for."
        ),
        request={"application/xml": OpenApiTypes.STR},
        responses={201: CrisisDetailSerializer, 200: CrisisDetailSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Earthquake alert",
                request_only=True,
                media_type="application/xml",
                value=(
                    '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
                    "<identifier>TMD-2026-1124-01</identifier><sender>tmd.go.th</sender>"
                    "<sent>2026-11-24T08:30:00+07:00</sent><status>Actual</status>"
                    "<msgType>Alert</msgType><scope>Public</scope><info><category>Geo"
                    "</category><event>Earthquake</event><urgency>Immediate</urgency>"
                    "<severity>Severe</severity><certainty>Observed</certainty><area>"
                    "<areaDesc>Andaman Sea</areaDesc><circle>7.9,98.3 50</circle></area>"
                    "</info></alert>"
                ),
            )
        ],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="cap",
        parser_classes=CAP_PARSERS,
    )
    def cap_intake(self, request):
        intake = cap_intake.ingest_cap_alert(
            by=request.user,
            desk=acting_desk(self.access, request.query_params.get("desk")),
            xml=request.data if isinstance(request.data, bytes) else b"",
        )
        return self._detail(intake.crisis, status.HTTP_201_CREATED if intake.opened else 200)
