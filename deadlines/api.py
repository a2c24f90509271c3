"""The deadline engine's operational view: pending and overdue deadlines, lateness."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers

from core.api import AccessMixin
from deadlines.models import Deadline, DeadlineState
from deadlines.selectors import deadlines_visible_to
from deadlines.services import engine_status


class DeadlineSerializer(serializers.ModelSerializer):
    overdue_seconds = serializers.SerializerMethodField()
    lateness_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Deadline
        fields = [
            "id",
            "kind",
            "subject_key",
            "state",
            "due_at",
            "enqueued_at",
            "fired_at",
            "cancelled_at",
            "attempts",
            "last_error",
            "overdue_seconds",
            "lateness_seconds",
        ]

    def get_overdue_seconds(self, deadline) -> float | None:
        if deadline.state != DeadlineState.PENDING:
            return None
        return max(0.0, round((self.context["now"] - deadline.due_at).total_seconds(), 3))

    def get_lateness_seconds(self, deadline) -> float | None:
        if deadline.fired_at is None:
            return None
        return round((deadline.fired_at - deadline.due_at).total_seconds(), 3)


@extend_schema(
    parameters=[
        OpenApiParameter(
            "state", str, enum=DeadlineState.values, description="Default: pending, soonest first"
        )
    ]
)
class DeadlineListView(AccessMixin, generics.ListAPIView):
    """Deadlines by state (coordinators and staff), with the engine's health in ``summary``.

    ``summary`` has pending/overdue counts, the sweep heartbeat (``stale`` when beat or
    the workers stopped) and the lateness (fired - due) of recent firings.
    """

    serializer_class = DeadlineSerializer
    queryset = Deadline.objects.none()  # for the schema; requests go through the selector

    def get_queryset(self):
        return deadlines_visible_to(self.access, state=self.request.query_params.get("state"))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        response.data = {"summary": engine_status(), **response.data}
        return response
