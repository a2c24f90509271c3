"""Hotline records in the admin: read-mostly (messages are a record, never edited)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.disclosure import NARROW
from core.tlp import label
from directory.access import access_for
from hotline.models import ChannelEvent, ChannelMember, HotlineChannel, LineCheck, Message
from hotline.selectors import message_visible_to


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
    """Messages as a record. TLP holds here too: the body of a message the person may not
    read (TLP:RED, TLP:AMBER+STRICT not sent to their organisation) is withheld, and a
    search of bodies never finds it (a hit would say what it holds)."""

    list_display = ["channel", "seq", "priority", "kind", "tlp", "sender_desk", "created_at"]
    list_filter = ["priority", "kind", "tlp"]
    search_fields = ["body"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and not message_visible_to(access_for(request.user), obj):
            return ["withheld_body" if name == "body" else name for name in fields]
        return fields

    @admin.display(description=_("Body"))
    def withheld_body(self, obj):
        return _("Withheld (%(marking)s): only the desks it was sent to read it.") % {
            "marking": label(obj.tlp)
        }

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            access = access_for(request.user)
            narrow = results.filter(tlp__in=NARROW).prefetch_related("recipient_desks")
            hidden = [m.pk for m in narrow if not message_visible_to(access, m)]
            results = results.exclude(pk__in=hidden)
        return results, may_have_duplicates


@admin.register(ChannelEvent)
class ChannelEventAdmin(ReadOnlyAdmin):
    list_display = ["channel", "kind", "actor", "desk", "at"]
    list_filter = ["kind"]


@admin.register(LineCheck)
class LineCheckAdmin(ReadOnlyAdmin):
    list_display = ["channel", "status", "sent_at", "due_at", "finished_at"]
    list_filter = ["status"]
