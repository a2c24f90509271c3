"""Hotline records in the admin: read-mostly (messages are a record, never edited)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from hotline.models import ChannelEvent, ChannelMember, HotlineChannel, LineCheck, Message


class MemberInline(admin.TabularInline):
    model = ChannelMember
    fk_name = "channel"
    extra = 0
    fields = ["desk", "added_by", "added_at", "removed_by", "removed_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # membership changes go through the services (traced)


@admin.register(HotlineChannel)
class HotlineChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "status", "line_status", "last_check_ok_at", "last_seq"]
    list_filter = ["kind", "status", "line_status"]
    search_fields = ["name", "crisis_ref"]
    readonly_fields = ["last_seq", "line_status", "last_check_ok_at", "created_at", "archived_at"]
    inlines = [MemberInline]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["channel", "seq", "priority", "kind", "sender_desk", "created_at"]
    list_filter = ["priority", "kind"]
    search_fields = ["body"]


@admin.register(ChannelEvent)
class ChannelEventAdmin(MessageAdmin):
    list_display = ["channel", "kind", "actor", "desk", "at"]
    list_filter = ["kind"]
    search_fields = []


@admin.register(LineCheck)
class LineCheckAdmin(MessageAdmin):
    list_display = ["channel", "status", "sent_at", "due_at", "finished_at"]
    list_filter = ["status"]
    search_fields = []
