"""Paging over the API: a person's own contact methods (add, verify, remove) and the
pages of their desks with every delivery attempt and its outcome."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import AccessMixin
from paging import services
from paging.models import ContactMethod, DeliveryAttempt, Page
from paging.selectors import contact_methods_of, pages_visible_to
from paging.transports import offered_kinds


class ContactMethodSerializer(serializers.ModelSerializer):
    is_verified = serializers.BooleanField(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = ContactMethod
        fields = [
            "id",
            "kind",
            "kind_label",
            "address",
            "label",
            "position",
            "is_verified",
            "verified_at",
            "code_expires_at",
        ]


class ContactMethodInputSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=16, help_text="One of the offered kinds: email.")
    address = serializers.CharField(max_length=254)
    label = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class VerifySerializer(serializers.Serializer):
    code = serializers.CharField(max_length=12)


class ContactMethodViewSet(
    AccessMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your own contact methods. A method is paged only once verified with the code it
    was sent; ``offered`` kinds are those a transport delivers (e-mail for now)."""

    serializer_class = ContactMethodSerializer
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return contact_methods_of(self.request.user)

    @extend_schema(
        request=ContactMethodInputSerializer,
        responses={201: ContactMethodSerializer},
        description=f"Add a method (offered kinds: {', '.join(offered_kinds())}); a "
        "verification code is sent to it.",
    )
    def create(self, request):
        data = ContactMethodInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        method = services.add_contact_method(user=request.user, **data.validated_data)
        return Response(ContactMethodSerializer(method).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        self.get_object()
        services.remove_contact_method(user=request.user, method_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=VerifySerializer,
        responses={
            200: ContactMethodSerializer,
            400: OpenApiResponse(description="wrong or expired code"),
        },
    )
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Verify with the code the method was sent (400 if wrong, expired or used up)."""
        data = VerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        method = services.verify_contact_method(
            user=request.user, method_id=int(pk), code=data.validated_data["code"]
        )
        return Response(ContactMethodSerializer(method).data)

    @extend_schema(request=None, responses={200: ContactMethodSerializer})
    @action(detail=True, methods=["post"], url_path="send-code")
    def send_code(self, request, pk=None):
        """Send a new verification code (the previous one stops working)."""
        method = services.send_verification_code(user=request.user, method_id=int(pk))
        return Response(ContactMethodSerializer(method).data)


class AttemptSerializer(serializers.ModelSerializer):
    person = serializers.CharField(source="recipient.user.username", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = DeliveryAttempt
        fields = [
            "id",
            "person",
            "kind",
            "address",
            "delay_seconds",
            "due_at",
            "state",
            "state_label",
            "tries",
            "sent_at",
            "failed_at",
            "failed_reason",
            "cancelled_at",
        ]


class PageSerializer(serializers.ModelSerializer):
    desk = serializers.SlugRelatedField(slug_field="code", read_only=True)
    acknowledged_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Page
        fields = [
            "id",
            "desk",
            "urgency",
            "kind",
            "subject_key",
            "title",
            "body",
            "link_path",
            "state",
            "state_label",
            "created_at",
            "acknowledged_at",
            "acknowledged_by",
            "closed_reason",
            "attempts",
        ]


class PageViewSet(AccessMixin, viewsets.ReadOnlyModelViewSet):
    """Pages of your desks (coordinators and auditors: all), newest first, with every
    delivery attempt and its outcome (queued, sending, sent, failed with the reason,
    cancelled by an acknowledgement)."""

    serializer_class = PageSerializer
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return pages_visible_to(self.access)

    @extend_schema(request=None, responses={200: PageSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Acknowledge for the page's desk (a writing member of it): the subject's handler
        acts (a crisis level is acknowledged) and nobody else is paged for it."""
        self.get_object()
        page = services.acknowledge_page(by=request.user, page=int(pk))
        return Response(PageSerializer(pages_visible_to(self.access).get(pk=page.pk)).data)
