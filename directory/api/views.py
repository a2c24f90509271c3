"""Member states, desks, and who am I."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, viewsets
from rest_framework.response import Response

from core.api import AccessMixin
from directory.models import AgencyType, Desk, DeskMembership, MemberState
from directory.selectors import desks_visible_to, states_visible_to


class MemberStateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MemberState
        fields = ["code", "name"]


class DeskSerializer(serializers.ModelSerializer):
    state = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    agency_type_label = serializers.CharField(source="get_agency_type_display", read_only=True)

    class Meta:
        model = Desk
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "state",
            "agency_type",
            "agency_type_label",
            "time_zone",
            "contact_email",
            "contact_phone",
        ]


class MembershipSerializer(serializers.ModelSerializer):
    desk = DeskSerializer(read_only=True)

    class Meta:
        model = DeskMembership
        fields = ["desk", "role"]


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    is_staff = serializers.BooleanField()
    sees_all_states = serializers.BooleanField()
    can_write = serializers.BooleanField()
    memberships = MembershipSerializer(many=True)


class MemberStateViewSet(AccessMixin, viewsets.ReadOnlyModelViewSet):
    """The member states of the region (ISO 3166-1 alpha-3 codes)."""

    serializer_class = MemberStateSerializer
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z]{3}"

    def get_queryset(self):
        return states_visible_to(self.access)

    def get_object(self):
        self.kwargs["code"] = self.kwargs["code"].upper()
        return super().get_object()


@extend_schema(
    parameters=[
        OpenApiParameter("state", str, description="ISO 3166-1 alpha-3 code, e.g. THA"),
        OpenApiParameter(
            "agency_type", str, enum=AgencyType.values, description="Only desks of this agency type"
        ),
    ]
)
class DeskViewSet(AccessMixin, viewsets.ReadOnlyModelViewSet):
    """National desks and the regional coordination centre."""

    serializer_class = DeskSerializer

    def get_queryset(self):
        params = self.request.query_params
        return desks_visible_to(
            self.access, state_code=params.get("state"), agency_type=params.get("agency_type")
        )


class MeView(AccessMixin, generics.GenericAPIView):
    """Who am I: my desks and my role on each."""

    serializer_class = MeSerializer

    def get(self, request):
        access = self.access
        user = request.user
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "full_name": user.get_full_name(),
            "is_staff": user.is_staff,
            "sees_all_states": access.sees_all_states,
            "can_write": access.can_write,
            "memberships": access.memberships,
        }
        return Response(MeSerializer(data).data)
