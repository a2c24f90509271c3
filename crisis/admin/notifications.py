"""In-app notifications in the admin: read-only."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, words_filter
from core.words import event_words
from crisis.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["desk", "kind_words", "title", "created_at", "read_at"]
    list_filter = [words_filter("kind", "kind")]
    search_fields = ["title"]
    list_select_related = ["desk"]

    @admin.display(description="kind", ordering="kind")
    def kind_words(self, obj):
        return event_words(obj.kind)
