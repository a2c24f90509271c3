"""In-app notifications in the admin: read-only."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from crisis.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["desk", "kind", "title", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["title"]
    list_select_related = ["desk"]
