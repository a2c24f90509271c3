"""Read-only admin pages for the deadline engine and in-app notifications."""

from django.contrib import admin

from crisis.models import Deadline, Notification


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["kind", "subject_key", "state", "due_at", "fired_at", "attempts"]
    list_filter = ["state", "kind"]
    search_fields = ["subject_key"]
    date_hierarchy = "due_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["desk", "kind", "title", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["title"]
    list_select_related = ["desk"]
