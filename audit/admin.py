from django.contrib import admin

from audit.models import ReadRecord
from core.admin import ReadOnlyAdmin


@admin.register(ReadRecord)
class ReadRecordAdmin(ReadOnlyAdmin):
    list_display = ["at", "username", "roles", "what", "object_type", "object_id", "desk"]
    list_filter = ["what", "object_type"]
    search_fields = ["username", "object_id"]
    date_hierarchy = "at"
