"""Admin pieces every app shares."""

from django.contrib import admin


class ReadOnlyMixin:
    """Records that change only through services (and the timeline): the admin views them.

    Mix into a ``ModelAdmin`` or an inline; ``ReadOnlyAdmin`` is the ready-made admin.
    """

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass
