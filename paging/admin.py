from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyMixin
from paging.models import (
    ContactMethod,
    DeliveryAttempt,
    NotificationRule,
    Page,
    PagingPreference,
)


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
    list_display = ["user", "quiet_from", "quiet_until"]
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
        "failed_reason",
    ]
    readonly_fields = fields


@admin.register(Page)
class PageAdmin(ReadOnlyAdmin):
    list_display = ["title", "desk", "urgency", "state", "created_at", "acknowledged_by"]
    list_filter = ["state", "urgency"]
    search_fields = ["title", "subject_key"]
    inlines = [AttemptInline]
