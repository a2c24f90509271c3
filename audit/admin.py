from django.contrib import admin

from audit.models import ReadRecord
from core.admin import ReadOnlyAdmin, words_filter
from core.words import event_words


@admin.register(ReadRecord)
class ReadRecordAdmin(ReadOnlyAdmin):
    list_display = ["at", "username", "roles", "what_words", "object_type", "object_id", "desk"]
    list_filter = [words_filter("what", "what was read"), "object_type"]
    search_fields = ["username", "object_id"]
    date_hierarchy = "at"

    @admin.display(description="what was read", ordering="what")
    def what_words(self, obj):
        return event_words(obj.what)
