"""The deadline engine's rows in the admin: read-only (the engine alone changes them)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, words_filter
from core.words import event_words
from deadlines.models import Deadline


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["kind_words", "subject_key", "state", "due_at", "fired_at", "attempts"]
    list_filter = ["state", words_filter("kind", "kind")]
    search_fields = ["subject_key"]
    date_hierarchy = "due_at"

    @admin.display(description="kind", ordering="kind")
    def kind_words(self, obj):
        return event_words(obj.kind)
