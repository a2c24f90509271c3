"""Crises and the timeline in the admin: read-mostly.

Crises change only through the lifecycle services (the API and console), so the admin
shows them and never edits them. Timeline entries can never be added, changed or deleted
here (nor anywhere else: the model and a database trigger refuse it).
"""

from django.contrib import admin

from core.admin import ReadOnlyMixin, words_filter
from core.words import event_words
from crisis.models import (
    CapAlert,
    Crisis,
    CrisisParticipant,
    CrisisTask,
    SituationUpdate,
    TimelineEntry,
)


class ParticipantInline(ReadOnlyMixin, admin.TabularInline):
    model = CrisisParticipant
    fields = ["desk", "role", "joined_at"]
    readonly_fields = fields
    extra = 0


class TaskInline(ReadOnlyMixin, admin.TabularInline):
    model = CrisisTask
    fields = ["desk", "item_order", "title", "due_at", "done_at", "done_by"]
    readonly_fields = fields
    extra = 0


class SituationUpdateInline(ReadOnlyMixin, admin.StackedInline):
    model = SituationUpdate
    fk_name = "crisis"
    fields = ["desk", "author", "posted_at", "conditions", "actions", "needs"]
    readonly_fields = fields
    extra = 0


@admin.register(Crisis)
class CrisisAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "title",
        "category",
        "severity",
        "status",
        "exercise",
        "escalation_state",
        "current_level",
        "level_deadline_at",
        "lead_desk",
        "reported_at",
    ]
    list_filter = [
        "exercise",
        "status",
        "severity",
        "category",
        "escalation_state",
        "affected_states",
    ]
    search_fields = ["reference", "title", "description"]
    date_hierarchy = "reported_at"
    list_select_related = ["lead_desk"]
    inlines = [ParticipantInline, TaskInline, SituationUpdateInline]
    exclude = ["latest_update"]


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["stream", "seq", "kind_words", "at", "actor", "desk", "crisis"]
    list_filter = [words_filter("kind", "what happened")]
    search_fields = ["stream__key", "crisis__reference", "kind"]
    list_select_related = ["stream", "actor", "desk", "crisis"]
    ordering = ["stream", "-seq"]

    @admin.display(description="what happened", ordering="kind")
    def kind_words(self, obj):
        return event_words(obj.kind)

    def get_actions(self, request):
        return {}  # not even the bulk "delete selected" action


@admin.register(CapAlert)
class CapAlertAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["identifier", "sender", "msg_type", "direction", "sent_at", "crisis"]
    list_filter = ["direction", "msg_type"]
    search_fields = ["identifier", "sender", "crisis__reference"]
    list_select_related = ["crisis"]
