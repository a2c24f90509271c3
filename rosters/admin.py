"""Admin pages for rosters. Shifts and overrides are checked by the same rules as the API
(``Shift.clean`` / ``Override.clean`` call ``rosters.rules``): only the desk's people,
only accepted recurrence rules."""

from django.contrib import admin

from rosters.models import HandoverNote, Override, Roster, Shift


class ShiftInline(admin.TabularInline):
    model = Shift
    extra = 0
    fields = ["person", "first_date", "start_time", "duration_minutes", "rrule", "until", "uid"]
    autocomplete_fields = ["person"]


class OverrideInline(admin.TabularInline):
    model = Override
    extra = 0
    fields = ["person", "starts_at", "ends_at", "note"]
    autocomplete_fields = ["person"]


@admin.register(Roster)
class RosterAdmin(admin.ModelAdmin):
    list_display = ["desk", "updated_at"]
    search_fields = ["desk__code", "desk__name"]
    autocomplete_fields = ["desk"]
    inlines = [ShiftInline, OverrideInline]


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["roster", "person", "first_date", "start_time", "duration_minutes", "rrule"]
    list_filter = ["roster__desk"]
    search_fields = ["person__username", "roster__desk__code"]
    autocomplete_fields = ["person"]


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):
    list_display = ["roster", "person", "starts_at", "ends_at", "note"]
    list_filter = ["roster__desk"]
    search_fields = ["person__username", "roster__desk__code", "note"]
    autocomplete_fields = ["person"]
    date_hierarchy = "starts_at"


@admin.register(HandoverNote)
class HandoverNoteAdmin(admin.ModelAdmin):
    list_display = ["roster", "author", "written_at", "shift_ending_at"]
    list_filter = ["roster__desk"]
    search_fields = ["text", "author__username"]
    autocomplete_fields = ["author"]
    date_hierarchy = "written_at"
