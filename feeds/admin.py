"""CAP feeds in the admin: staff add, switch off and poll feeds and read their health;
protocol authors set the triggers that let a feed's alert open a crisis."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin import ReadOnlyAdmin
from feeds import services
from feeds.models import CapFeed, CapTrigger, FeedEntry


@admin.register(CapFeed)
class CapFeedAdmin(admin.ModelAdmin):
    list_display = ["agency", "state", "url", "is_active", "status", "last_success_at", "failures"]
    list_filter = ["is_active", "state"]
    search_fields = ["agency", "url"]
    fields = [
        "url", "agency", "state", "desk", "is_active", "from_settings", "health",
        "last_polled_at", "last_success_at", "last_error_at", "last_error", "last_result",
        "failures", "next_poll_at",
    ]  # fmt: skip
    readonly_fields = [
        "from_settings", "health", "last_polled_at", "last_success_at", "last_error_at",
        "last_error", "last_result", "failures", "next_poll_at",
    ]  # fmt: skip
    actions = ["poll_now"]

    @admin.display(description="Status")
    def status(self, feed):
        return services.feed_status(feed).label

    @admin.display(description="Health")
    def health(self, feed):
        return services.health_words(feed) if feed.pk else "Not polled yet."

    @admin.action(description=gettext_lazy("Poll the selected feeds now"))
    def poll_now(self, request, queryset):
        for feed in queryset.filter(is_active=True):
            report = services.poll_feed(feed_id=feed.pk)
            if report is None:
                self.message_user(
                    request,
                    _("%(feed)s: being polled already.") % {"feed": feed},
                    messages.WARNING,
                )
            else:
                level = messages.SUCCESS if report.ok else messages.ERROR
                self.message_user(
                    request,
                    _("%(agency)s: %(summary)s")
                    % {"agency": feed.agency, "summary": report.summary()},
                    level,
                )


@admin.register(FeedEntry)
class FeedEntryAdmin(ReadOnlyAdmin):
    list_display = ["seen_at", "feed", "identifier", "outcome", "crisis", "reason"]
    list_filter = ["outcome", "feed"]
    search_fields = ["identifier", "sender", "link"]


@admin.register(CapTrigger)
class CapTriggerAdmin(admin.ModelAdmin):
    list_display = ["protocol", "event_words", "min_severity", "is_active"]
    list_filter = ["is_active", "min_severity"]
    filter_horizontal = ["states"]
