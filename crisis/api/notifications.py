"""The notification centre's API: ``GET /api/v1/notifications/`` (the caller's desks'
notifications, newest first, ``?unread=true``, paginated, each with the page that went
with it and its delivery attempts) and ``POST /api/v1/notifications/{id}/read/``."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import AccessMixin
from core.errors import InvalidInput, NotFound
from crisis.models import Notification
from crisis.selectors import notifications_for, pages_of_notifications
from crisis.services.notifications import mark_notification_read
from paging.api import AttemptSerializer


class DeliverySerializer(serializers.Serializer):
    """The page sent with a notification: its state and each message to each person."""

    id = serializers.IntegerField()
    urgency = serializers.CharField()
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", default=None, allow_null=True
    )
    attempts = AttemptSerializer(many=True)


class NotificationSerializer(serializers.ModelSerializer):
    desk = serializers.CharField(source="desk.code")
    crisis = serializers.IntegerField(source="crisis_id", allow_null=True)
    crisis_reference = serializers.CharField(
        source="crisis.reference", default=None, allow_null=True
    )
    is_read = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()
    exercise = serializers.BooleanField(
        source="crisis.exercise",
        default=False,
        read_only=True,
        help_text="About an exercise crisis: drill traffic.",
    )

    class Meta:
        model = Notification
        fields = [
            "id",
            "desk",
            "kind",
            "title",
            "crisis",
            "crisis_reference",
            "exercise",
            "link_path",
            "payload",
            "created_at",
            "read_at",
            "is_read",
            "page",
        ]

    def get_is_read(self, obj) -> bool:
        return obj.read_at is not None

    @extend_schema_field(DeliverySerializer(allow_null=True))
    def get_page(self, obj) -> dict | None:
        page = self.context.get("pages", {}).get(obj.pk)
        return DeliverySerializer(page).data if page is not None else None


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


UNREAD = OpenApiParameter(
    "unread", OpenApiTypes.BOOL, description="true: only notifications not yet read"
)


class NotificationViewSet(AccessMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your desks' notifications: escalation levels, level actions, line checks missed."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        unread = self.request.query_params.get("unread", "")
        if unread.lower() not in ("", "true", "false", "1", "0"):
            raise InvalidInput(_("unread is true or false."), details={"field": "unread"})
        return notifications_for(self.access, unread=unread.lower() in ("true", "1"))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "pages": getattr(self, "_pages", {})}

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self._pages = pages_of_notifications(self.access, page or [])
        return page

    @extend_schema(parameters=[UNREAD])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: UnreadCountSerializer})
    @action(detail=False, methods=["get"], url_path="unread-count", pagination_class=None)
    def unread_count(self, request):
        """How many of your desks' notifications are unread (the console's badge)."""
        return Response({"unread": notifications_for(self.access, unread=True).count()})

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark it read for your desk (idempotent)."""
        try:
            notification_id = int(pk)
        except (TypeError, ValueError):
            raise NotFound(_("No such notification.")) from None
        if not 0 < notification_id < 2**63:
            raise NotFound(_("No such notification."))
        notification = mark_notification_read(by=request.user, notification_id=notification_id)
        self._pages = pages_of_notifications(self.access, [notification])
        return Response(self.get_serializer(notification).data)
