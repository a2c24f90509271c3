"""Admin pages for every humanitarian record.

Requests and pledges change state only through the services (the API), so their admin
pages are read-only; the standby register and shelters are maintained here.
"""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from humanitarian.models import (
    AssistanceRequest,
    DisplacementReport,
    ImportJob,
    Pledge,
    ReceivedRMMessage,
    Reminder,
    Shelter,
    ShelterOccupancy,
    SituationReport,
    StandbyAsset,
)


class PledgeInline(admin.TabularInline):
    model = Pledge
    fk_name = "request"
    extra = 0
    can_delete = False
    fields = ["pledging_desk", "quantity", "quantity_accepted", "quantity_received", "eta",
              "status"]  # fmt: skip
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AssistanceRequest)
class AssistanceRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "crisis", "state", "sector", "item", "quantity", "quantity_accepted",
                    "quantity_delivered", "needed_by", "priority", "status"]  # fmt: skip
    list_filter = ["status", "sector", "priority", "state"]
    search_fields = ["crisis__reference", "item", "location", "admin1_name", "notes"]
    list_select_related = ["crisis", "state"]
    date_hierarchy = "needed_by"
    inlines = [PledgeInline]


@admin.register(Pledge)
class PledgeAdmin(ReadOnlyAdmin):
    list_display = ["id", "crisis", "request", "pledging_desk", "item", "quantity",
                    "quantity_accepted", "quantity_received", "eta", "status"]  # fmt: skip
    list_filter = ["status", "sector", "state"]
    search_fields = ["crisis__reference", "item", "pledging_desk__code", "conditions"]
    list_select_related = ["crisis", "request", "pledging_desk"]


@admin.register(StandbyAsset)
class StandbyAssetAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "kind", "sector", "item", "capacity", "unit",
                    "readiness_hours", "location", "is_available"]  # fmt: skip
    list_filter = ["kind", "sector", "state", "is_available"]
    search_fields = ["name", "location", "item"]
    list_select_related = ["state"]
    list_editable = ["is_available"]


class OccupancyInline(admin.TabularInline):
    model = ShelterOccupancy
    extra = 0
    can_delete = False
    fields = ["recorded_at", "population", "capacity", "status", "recorded_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Shelter)
class ShelterAdmin(ReadOnlyAdmin):
    list_display = ["name", "crisis", "managing_state", "admin1_name", "capacity", "population",
                    "status", "updated_at"]  # fmt: skip
    list_filter = ["status", "managing_state"]
    search_fields = ["name", "location", "admin1_name", "admin2_name"]
    list_select_related = ["crisis", "managing_state"]
    inlines = [OccupancyInline]


@admin.register(ShelterOccupancy)
class ShelterOccupancyAdmin(ReadOnlyAdmin):
    list_display = ["shelter", "recorded_at", "population", "capacity", "status"]
    list_select_related = ["shelter"]
    date_hierarchy = "recorded_at"


@admin.register(DisplacementReport)
class DisplacementReportAdmin(ReadOnlyAdmin):
    list_display = ["crisis", "country_code", "admin1_name", "admin2_name", "reported_on",
                    "round", "idps", "refugees", "source"]  # fmt: skip
    list_filter = ["country_code", "assessment_type", "round"]
    search_fields = ["admin1_name", "admin1_code", "admin2_name", "admin2_code", "source"]
    list_select_related = ["crisis"]


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "crisis", "desk", "filename", "status", "total_rows", "processed_rows",
                    "created_count", "created_at"]  # fmt: skip
    list_filter = ["status"]
    exclude = ["content"]
    list_select_related = ["crisis", "desk"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ["kind", "pledge", "request", "due_at", "sent_at"]
    list_filter = ["kind"]


@admin.register(SituationReport)
class SituationReportAdmin(ReadOnlyAdmin):
    list_display = ["crisis", "report_date", "created_at"]
    list_select_related = ["crisis"]
    date_hierarchy = "report_date"


@admin.register(ReceivedRMMessage)
class ReceivedRMMessageAdmin(ReadOnlyAdmin):
    """EDXL-RM messages imported from partners' systems, and what each one made."""

    list_display = [
        "message_id",
        "message_type",
        "sender",
        "desk",
        "request",
        "pledge",
        "received_at",
    ]
    list_filter = ["message_type"]
    search_fields = ["message_id", "sender"]
