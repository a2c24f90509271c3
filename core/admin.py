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


def words_filter(field: str, title: str):
    """A list filter on a free-text kind field (``assistance.pledge_delivered``) that shows
    the words people read ("Assistance pledge delivered"), not the dotted names."""
    from core.words import event_words

    class WordsFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            values = model_admin.get_queryset(request).order_by(field).values_list(field, flat=True)
            return [(v, event_words(v)) for v in dict.fromkeys(values)]

        def queryset(self, request, queryset):
            value = self.value()
            return queryset.filter(**{field: value}) if value else queryset

    WordsFilter.title = title
    return WordsFilter
