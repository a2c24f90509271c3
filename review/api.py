"""Performance against the protocol and the after-action review over REST. Thin: parse,
call a selector or a service, render."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import AccessMixin
from core.errors import InvalidInput
from review import services
from review.performance import crisis_performance, desk_performance
from review.selectors import (
    desk_for_performance,
    period_options,
    require_review,
    review_data,
    visible_crisis,
)

ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The crisis")
CODE = OpenApiParameter("code", str, OpenApiParameter.PATH, description="The desk's code")


# --- serializers ------------------------------------------------------------------------------


class StatsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    mean_seconds = serializers.FloatField(allow_null=True)
    median_seconds = serializers.FloatField(allow_null=True)
    max_seconds = serializers.FloatField(allow_null=True)


class AckSerializer(serializers.Serializer):
    desk = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField()
    seconds = serializers.FloatField()
    within_deadline = serializers.BooleanField()


class LevelRoundSerializer(serializers.Serializer):
    level = serializers.IntegerField(allow_null=True)
    round = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    entered_at = serializers.DateTimeField()
    deadline_at = serializers.DateTimeField(allow_null=True)
    timeout_seconds = serializers.FloatField(allow_null=True)
    desks = serializers.ListField(child=serializers.CharField())
    acks = AckSerializer(many=True)
    outcome = serializers.ChoiceField(
        choices=["open", "acknowledged", "expired", "stopped", "superseded"]
    )


class DeskFiguresSerializer(serializers.Serializer):
    desk = serializers.CharField()
    name = serializers.CharField()
    time_zone = serializers.CharField()
    levels_notified = serializers.IntegerField()
    levels_acknowledged = serializers.IntegerField()
    levels_missed = serializers.IntegerField(help_text="Level rounds it was told of that expired.")
    acks_within_deadline = serializers.IntegerField()
    time_to_acknowledge = StatsSerializer()
    flash_received = serializers.IntegerField()
    flash_acknowledged = serializers.IntegerField()
    flash_unacknowledged = serializers.IntegerField()
    flash_time_to_acknowledge = StatsSerializer()
    tasks = serializers.IntegerField()
    tasks_done = serializers.IntegerField()
    tasks_late = serializers.IntegerField()
    pledges_offered = serializers.IntegerField()
    pledges_promised = serializers.IntegerField()
    pledges_delivered = serializers.IntegerField()


class TotalsSerializer(serializers.Serializer):
    levels_entered = serializers.IntegerField()
    escalations_taken = serializers.IntegerField()
    time_to_first_ack_seconds = serializers.FloatField(allow_null=True)
    messages_unacknowledged = serializers.IntegerField()
    tasks = serializers.IntegerField()
    tasks_late = serializers.IntegerField()
    pledges_promised = serializers.IntegerField()
    pledges_delivered = serializers.IntegerField()


class QuantitySerializer(serializers.Serializer):
    desk = serializers.CharField()
    item = serializers.CharField()
    unit = serializers.CharField()
    promised = serializers.IntegerField()
    delivered = serializers.IntegerField()


class LateStepSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["level", "task"])
    desks = serializers.ListField(child=serializers.CharField())
    due_at = serializers.DateTimeField(allow_null=True)
    text = serializers.CharField()


class CrisisSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    exercise = serializers.BooleanField()
    status = serializers.CharField()
    lead_desk = serializers.CharField()
    reported_at = serializers.DateTimeField()
    activated_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)


class CrisisPerformanceSerializer(serializers.Serializer):
    crisis = CrisisSummarySerializer()
    computed_at = serializers.DateTimeField()
    totals = TotalsSerializer()
    levels = LevelRoundSerializer(many=True)
    desks = DeskFiguresSerializer(many=True)
    pledge_quantities = QuantitySerializer(many=True)
    late_steps = LateStepSerializer(many=True)


class PeriodCrisisSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    exercise = serializers.BooleanField()


class PeriodSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="2026-Q4 or 2026-11")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    crises = PeriodCrisisSerializer(many=True)
    levels_notified = serializers.IntegerField()
    levels_acknowledged = serializers.IntegerField()
    levels_missed = serializers.IntegerField()
    acks_within_deadline = serializers.IntegerField()
    time_to_acknowledge = StatsSerializer()
    flash_received = serializers.IntegerField()
    flash_unacknowledged = serializers.IntegerField()
    flash_mean_seconds = serializers.FloatField(allow_null=True)
    tasks = serializers.IntegerField()
    tasks_late = serializers.IntegerField()
    pledges_promised = serializers.IntegerField()
    pledges_delivered = serializers.IntegerField()


class TrendSerializer(serializers.Serializer):
    current_mean_seconds = serializers.FloatField(allow_null=True)
    previous_mean_seconds = serializers.FloatField(allow_null=True)
    faster = serializers.BooleanField(allow_null=True)
    change_seconds = serializers.FloatField(allow_null=True)


class DeskRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    time_zone = serializers.CharField()


class DeskPerformanceSerializer(serializers.Serializer):
    desk = DeskRefSerializer()
    period = serializers.ChoiceField(choices=["quarter", "month"])
    exercises = serializers.ChoiceField(choices=["exclude", "include", "only"])
    computed_at = serializers.DateTimeField()
    periods = PeriodSerializer(many=True)
    trend = TrendSerializer()
    trend_text = serializers.CharField()


class ActionOutSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    title = serializers.CharField()
    owner_desk = serializers.CharField()
    owner = serializers.CharField(allow_null=True)
    due_at = serializers.DateTimeField()
    task_id = serializers.IntegerField(allow_null=True, help_text="Once published.")
    done_at = serializers.DateTimeField(allow_null=True)


class ReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    crisis = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["draft", "published"])
    what_happened = serializers.CharField(allow_blank=True)
    went_well = serializers.CharField(allow_blank=True)
    to_change = serializers.CharField(allow_blank=True)
    actions = ActionOutSerializer(many=True)
    generated = serializers.DictField(help_text="Timeline highlights and performance, as drafted.")
    drafted_by = serializers.CharField()
    drafted_at = serializers.DateTimeField()
    updated_by = serializers.CharField()
    updated_at = serializers.DateTimeField()
    published_by = serializers.CharField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)


class DeskInputSerializer(serializers.Serializer):
    desk = serializers.CharField(
        required=False, max_length=64, help_text="The desk you act for (its code)"
    )


class ActionInSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    owner_desk = serializers.CharField(max_length=64, help_text="A party desk's code")
    owner = serializers.CharField(
        max_length=150, required=False, allow_blank=True, allow_null=True,
        help_text="Username of a person of the owner desk",
    )  # fmt: skip
    due_at = serializers.DateTimeField()


class ReviewUpdateSerializer(DeskInputSerializer):
    what_happened = serializers.CharField(
        required=False, allow_blank=True, max_length=services.MAX_TEXT
    )
    went_well = serializers.CharField(
        required=False, allow_blank=True, max_length=services.MAX_TEXT
    )
    to_change = serializers.CharField(
        required=False, allow_blank=True, max_length=services.MAX_TEXT
    )
    actions = ActionInSerializer(many=True, required=False, max_length=services.MAX_ACTIONS)


def _input(serializer_class, data) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput(_("The body must be a JSON object."))
    checked = serializer_class(data=data)
    checked.is_valid(raise_exception=True)
    return dict(checked.validated_data)


# --- views ------------------------------------------------------------------------------------


class CrisisPerformanceView(AccessMixin, APIView):
    """How each desk did against the protocol in one crisis or exercise."""

    @extend_schema(
        summary="Performance against the protocol: per desk and level (time to acknowledge, "
        "escalations taken, flash messages unacknowledged, tasks late, pledges delivered)",
        parameters=[ID],
        responses={200: CrisisPerformanceSerializer},
    )
    def get(self, request, id: int):
        crisis = visible_crisis(self.access, id)
        return Response(CrisisPerformanceSerializer(crisis_performance(crisis)).data)


class DeskPerformanceView(AccessMixin, APIView):
    """A desk's figures over time, per quarter or month; exercises apart."""

    @extend_schema(
        summary="A desk's performance per quarter or month (exercises left out unless asked)",
        parameters=[
            CODE,
            OpenApiParameter("period", str, enum=["quarter", "month"],
                             description="Default quarter"),
            OpenApiParameter("periods", int,
                             description="How many periods, 1 to 24 (4 quarters or 6 by default)"),
            OpenApiParameter("exercises", str, enum=["exclude", "include", "only"],
                             description="Default exclude: real crises only"),
        ],
        responses={200: DeskPerformanceSerializer},
    )  # fmt: skip
    def get(self, request, code: str):
        desk = desk_for_performance(self.access, code)
        options = period_options(request.query_params)
        return Response(DeskPerformanceSerializer(desk_performance(desk, **options)).data)


class ReviewView(AccessMixin, APIView):
    """The crisis's after-action review: read, draft, edit."""

    @extend_schema(
        summary="The after-action review (a draft only for its editors)",
        parameters=[ID],
        responses={200: ReviewSerializer},
    )
    def get(self, request, id: int):
        crisis = visible_crisis(self.access, id)
        return Response(ReviewSerializer(review_data(require_review(self.access, crisis))).data)

    @extend_schema(
        summary="Draft the review from the record (lead desk's supervisors, coordinators; "
        "once the crisis is resolved)",
        parameters=[ID],
        request=DeskInputSerializer,
        responses={201: ReviewSerializer},
    )
    def post(self, request, id: int):
        crisis = visible_crisis(self.access, id)
        self.access.acting_desk()  # read-only people: 403 before the body is read
        data = _input(DeskInputSerializer, request.data)
        desk = self.access.acting_desk(data.get("desk"))
        services.draft_review(by=request.user, desk=desk, crisis=crisis)
        review = require_review(self.access, crisis)
        return Response(ReviewSerializer(review_data(review)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit the draft (texts; actions replace the list before)",
        parameters=[ID],
        request=ReviewUpdateSerializer,
        responses={200: ReviewSerializer},
    )
    def patch(self, request, id: int):
        crisis = visible_crisis(self.access, id)
        self.access.acting_desk()
        data = _input(ReviewUpdateSerializer, request.data)
        desk = self.access.acting_desk(data.pop("desk", None))
        services.update_review(by=request.user, desk=desk, crisis=crisis, changes=data)
        return Response(ReviewSerializer(review_data(require_review(self.access, crisis))).data)


class ReviewPublishView(AccessMixin, APIView):
    @extend_schema(
        summary="Publish the review to the parties: read-only; actions become tasks",
        parameters=[ID],
        request=DeskInputSerializer,
        responses={200: ReviewSerializer},
    )
    def post(self, request, id: int):
        crisis = visible_crisis(self.access, id)
        self.access.acting_desk()
        data = _input(DeskInputSerializer, request.data)
        desk = self.access.acting_desk(data.get("desk"))
        services.publish_review(by=request.user, desk=desk, crisis=crisis)
        return Response(ReviewSerializer(review_data(require_review(self.access, crisis))).data)
