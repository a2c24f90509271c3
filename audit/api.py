"""``GET /api/v1/audit/reads/``: the read audit, for auditors and coordinators."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers

from audit.models import ReadRecord
from audit.selectors import reads_visible_to
from core.api import AccessMixin
from core.errors import InvalidInput


class ReadRecordSerializer(serializers.ModelSerializer):
    desk_code = serializers.CharField(source="desk.code", default=None, read_only=True)

    class Meta:
        model = ReadRecord
        fields = [
            "id",
            "at",
            "user",
            "username",
            "roles",
            "desk",
            "desk_code",
            "what",
            "object_type",
            "object_id",
            "details",
        ]
        read_only_fields = fields


class _Filters(serializers.Serializer):
    user = serializers.IntegerField(required=False, min_value=1)
    object_type = serializers.CharField(required=False, max_length=64)
    since = serializers.DateTimeField(required=False)


@extend_schema(
    summary="Who read what (the read audit), newest first",
    description=(
        "Exports, transcript reads and reads of crises by people not party to them. "
        "Auditors and coordinators only (403 for others)."
    ),
    parameters=[
        OpenApiParameter("user", int, description="Only this user's reads"),
        OpenApiParameter("object_type", str, description="e.g. crisis, hotline_line, hxl_export"),
        OpenApiParameter("since", str, description="ISO 8601 date-time; reads at or after it"),
    ],
)
class ReadRecordList(AccessMixin, generics.ListAPIView):
    serializer_class = ReadRecordSerializer
    filter_backends = []  # the filters are validated below, one error shape
    queryset = ReadRecord.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self):
        filters = _Filters(data=self.request.query_params)
        if not filters.is_valid():
            raise InvalidInput(
                _("Bad filter: %(problems)s")
                % {"problems": "; ".join(f"{k}: {v[0]}" for k, v in filters.errors.items())},
                details={"fields": filters.errors},
            )
        f = filters.validated_data
        return reads_visible_to(
            self.access,
            user_id=f.get("user"),
            object_type=f.get("object_type"),
            since=f.get("since"),
        )
