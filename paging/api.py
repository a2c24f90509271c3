"""Paging over the API: a person's own contact methods (add, verify, remove), the pages
of their desks with every delivery attempt, its outcome and its log of tries, and the
desks' webhooks (managed by supervisors and coordinators)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import AccessMixin
from core.errors import NotFound
from directory.selectors import desks_visible_to
from paging import services
from paging.models import (
    ContactMethod,
    DeliveryAttempt,
    DeliveryTry,
    DeskWebhook,
    Page,
    Urgency,
)
from paging.selectors import (
    contact_methods_of,
    pages_visible_to,
    webhook_deliveries,
    webhooks_managed_by,
)
from paging.services.webhooks import require_manage
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
    kind = serializers.CharField(
        max_length=16,
        help_text="One of the offered kinds: email; sms and voice when an SMS provider is "
        "configured (GET /api/v1/contact-methods/ lists yours).",
    )
    address = serializers.CharField(
        max_length=254, help_text="An e-mail address, or an E.164 number (+66812345678)."
    )
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
    was sent (SMS and voice numbers get it by SMS or by a call reading it out); the kinds
    offered are those a configured transport delivers."""

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


class DeliveryTrySerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryTry
        fields = ["try_no", "at", "duration_ms", "status_code", "outcome", "detail"]


class AttemptSerializer(serializers.ModelSerializer):
    person = serializers.CharField(
        source="recipient.user.username",
        read_only=True,
        allow_null=True,
        help_text="Empty for a desk webhook's post.",
    )
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    log = DeliveryTrySerializer(source="tries_log", many=True, read_only=True)

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
            "provider_status",
            "delivered_at",
            "failed_at",
            "failed_reason",
            "cancelled_at",
            "log",
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
            "exercise",
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


# --- desk webhooks ------------------------------------------------------------------------


class WebhookSerializer(serializers.ModelSerializer):
    desk = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = DeskWebhook
        fields = ["id", "desk", "url", "description", "is_active", "urgencies", "created_at"]


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="whsec_…: verify our signatures with it (Standard Webhooks). Shown once.",
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, help_text="Where we POST (https://).")
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    is_active = serializers.BooleanField(required=False, default=True)
    urgencies = serializers.ListField(
        child=serializers.ChoiceField(choices=Urgency.choices),
        required=False,
        default=list,
        max_length=len(Urgency.values),
        help_text="Which pages are posted, by urgency; empty: all.",
    )


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="payload.type", read_only=True, default="")
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    log = DeliveryTrySerializer(source="tries_log", many=True, read_only=True)

    class Meta:
        model = DeliveryAttempt
        fields = [
            "id",
            "page",
            "event",
            "message_id",
            "state",
            "state_label",
            "tries",
            "sent_at",
            "failed_at",
            "failed_reason",
            "log",
        ]


class DeskWebhookListView(AccessMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A desk's webhooks (``/api/v1/desks/{id}/webhooks/``): its supervisors and the
    coordinators list and add them; anyone else off the desk gets 404, its other roles 403."""

    serializer_class = WebhookSerializer

    def _desk(self):
        desk_id = self.kwargs["id"]
        desk = desks_visible_to(self.access).filter(pk=desk_id).first()
        if desk is None:
            raise NotFound(_("No such desk."))
        require_manage(self.access, desk)
        return desk

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no desk
            return DeskWebhook.objects.none()
        return webhooks_managed_by(self.access).filter(desk=self._desk())

    @extend_schema(
        request=WebhookInputSerializer,
        responses={201: WebhookWithSecretSerializer},
        description="Add a webhook to the desk. The answer carries its signing secret, "
        "shown this once.",
    )
    def create(self, request, id=None):
        desk = self._desk()
        data = WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        is_active = values.pop("is_active")
        hook, secret = services.add_desk_webhook(by=request.user, desk=desk, **values)
        if not is_active:
            hook = services.update_desk_webhook(
                by=request.user, webhook_id=hook.pk, is_active=False
            )
        body = WebhookWithSecretSerializer(hook).data | {"secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookPatchSerializer(WebhookInputSerializer):
    url = serializers.CharField(max_length=500, required=False)
    is_active = serializers.BooleanField(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    urgencies = serializers.ListField(
        child=serializers.ChoiceField(choices=Urgency.choices),
        required=False,
        max_length=len(Urgency.values),
    )


class WebhookViewSet(
    AccessMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """One desk webhook (``/api/v1/webhooks/{id}/``): change, turn off, rotate its secret,
    remove, and read the log of its posts (every try: time, HTTP status, outcome)."""

    serializer_class = WebhookSerializer
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return webhooks_managed_by(self.access)

    @extend_schema(request=WebhookPatchSerializer, responses={200: WebhookSerializer})
    def partial_update(self, request, pk=None):
        self.get_object()
        data = WebhookPatchSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        hook = services.update_desk_webhook(
            by=request.user, webhook_id=int(pk), **data.validated_data
        )
        return Response(WebhookSerializer(hook).data)

    def destroy(self, request, pk=None):
        self.get_object()
        services.remove_desk_webhook(by=request.user, webhook_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: WebhookWithSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret, shown this once; the old one stops at once."""
        self.get_object()
        hook, secret = services.rotate_webhook_secret(by=request.user, webhook_id=int(pk))
        return Response(WebhookWithSecretSerializer(hook).data | {"secret": secret})

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The webhook's posts, newest first, each with every try (paginated)."""
        hook = self.get_object()
        page = self.paginate_queryset(webhook_deliveries(hook))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
