"""The deadline engine's rows in the admin: read-only (the engine alone changes them)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from deadlines.models import Deadline


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["kind", "subject_key", "state", "due_at", "fired_at", "attempts"]
    list_filter = ["state", "kind"]
    search_fields = ["subject_key"]
    date_hierarchy = "due_at"
