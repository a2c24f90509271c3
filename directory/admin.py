from django.contrib import admin

from directory.models import Desk, DeskMembership, MemberState


class DeskInline(admin.TabularInline):
    model = Desk
    extra = 0
    fields = ["code", "name", "kind", "time_zone", "is_active"]
    show_change_link = True


@admin.register(MemberState)
class MemberStateAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    inlines = [DeskInline]


class MembershipInline(admin.TabularInline):
    model = DeskMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Desk)
class DeskAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "agency_type", "state", "time_zone", "is_active"]
    list_filter = ["kind", "agency_type", "is_active", "state"]
    search_fields = ["code", "name", "state__code", "state__name"]
    inlines = [MembershipInline]


@admin.register(DeskMembership)
class DeskMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "desk", "role", "created_at"]
    list_filter = ["role", "desk__kind", "desk"]
    search_fields = ["user__username", "desk__code", "desk__name"]
    autocomplete_fields = ["user", "desk"]
