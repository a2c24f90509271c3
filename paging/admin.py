from django.contrib import admin, messages
from django.utils.translation import gettext as _

from core.admin import ReadOnlyAdmin, ReadOnlyMixin
from paging.models import (
    ContactMethod,
    DeliveryAttempt,
    DeliveryTry,
    DeskWebhook,
    NotificationRule,
    Page,
    PagingPreference,
)
from paging.services.webhooks import new_secret


@admin.register(ContactMethod)
class ContactMethodAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "address", "position", "verified_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "address"]
    readonly_fields = ["verified_at", "code_expires_at", "code_attempts", "created_at"]
    exclude = ["code_hash"]


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    list_display = ["user", "urgency", "kind", "delay_seconds"]
    list_filter = ["urgency", "kind"]
    search_fields = ["user__username"]


@admin.register(PagingPreference)
class PagingPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "quiet_from", "quiet_until", "language"]
    search_fields = ["user__username"]


class AttemptInline(ReadOnlyMixin, admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    fields = [
        "recipient",
        "kind",
        "address",
        "due_at",
        "state",
        "tries",
        "sent_at",
        "provider_status",
        "delivered_at",
        "failed_reason",
    ]
    readonly_fields = fields


@admin.register(Page)
class PageAdmin(ReadOnlyAdmin):
    list_display = ["title", "desk", "urgency", "state", "created_at", "acknowledged_by"]
    list_filter = ["state", "urgency"]
    search_fields = ["title", "subject_key"]
    inlines = [AttemptInline]


class DeliveryTryInline(ReadOnlyMixin, admin.TabularInline):
    model = DeliveryTry
    extra = 0
    fields = ["try_no", "at", "duration_ms", "status_code", "outcome", "detail"]
    readonly_fields = fields


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdmin):
    """Every attempt with its log of tries (read-only: delivery writes them)."""

    list_display = ["page", "kind", "address", "state", "tries", "due_at", "provider_status"]
    list_filter = ["kind", "state"]
    search_fields = ["address", "provider_id", "page__title"]
    inlines = [DeliveryTryInline]


@admin.register(DeskWebhook)
class DeskWebhookAdmin(admin.ModelAdmin):
    """A desk's webhooks; a new one's signing secret is shown once, in the message after
    saving (rotate it through the API: POST /api/v1/webhooks/{id}/rotate-secret/)."""

    list_display = ["desk", "url", "is_active", "urgencies", "created_at"]
    list_filter = ["is_active", "desk"]
    search_fields = ["url", "description", "desk__code"]
    readonly_fields = ["created_at", "created_by"]
    exclude = ["secret"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.secret = new_secret()
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            messages.warning(
                request,
                _(
                    "Signing secret for %(url)s: %(secret)s — give it to the desk's system "
                    "now; it is not shown again."
                )
                % {"url": obj.url, "secret": obj.secret},
            )
