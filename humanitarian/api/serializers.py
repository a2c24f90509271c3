"""Input and output shapes. Serializers check shape and types; services decide."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from directory.models import Desk
from humanitarian.models import (
    ITEM_CHOICES,
    AssetKind,
    AssistanceRequest,
    DisplacementReport,
    ImportJob,
    Pledge,
    Priority,
    Sector,
    Shelter,
    ShelterOccupancy,
    ShelterService,
    ShelterStatus,
    SituationReport,
    StandbyAsset,
)
from humanitarian.services._common import MAX_COUNT

# PostgreSQL integer columns: larger values are a clear 400 here, not a 500 at the database.
MAX_ID = 2**63 - 1

ITEM_FIELD_HELP = "Item code from the catalogue (GET /api/v1/humanitarian/catalogue/)."


class DeskField(serializers.SlugRelatedField):
    """A desk by its code; the caller's own writing desk when left out."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Desk.objects.filter(is_active=True))
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", "Code of the desk you act for (default: your first writing desk)."
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class CrisisField(serializers.IntegerField):
    """A crisis id. Resolved by the view through the caller's visibility (hidden = 404)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Crisis id.")
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


# --- output -------------------------------------------------------------------------------


class RequestSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    crisis_reference = serializers.CharField(source="crisis.reference", read_only=True)
    exercise = serializers.BooleanField(
        source="crisis.exercise",
        read_only=True,
        help_text="Of an exercise crisis (a drill): never real.",
    )
    state = serializers.CharField(source="state.code", read_only=True)
    requesting_desk = serializers.CharField(source="requesting_desk.code", read_only=True)
    quantity_remaining = serializers.IntegerField(read_only=True)

    class Meta:
        model = AssistanceRequest
        fields = [
            "id",
            "reference",
            "crisis",
            "crisis_reference",
            "exercise",
            "state",
            "requesting_desk",
            "sector",
            "item",
            "unit",
            "quantity",
            "quantity_accepted",
            "quantity_delivered",
            "quantity_remaining",
            "surplus_accepted",
            "location",
            "admin1_code",
            "admin1_name",
            "needed_by",
            "priority",
            "notes",
            "status",
            "created_at",
            "opened_at",
            "closed_at",
        ]
        read_only_fields = fields


class PledgeSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    crisis_reference = serializers.CharField(source="crisis.reference", read_only=True)
    exercise = serializers.BooleanField(
        source="crisis.exercise",
        read_only=True,
        help_text="Of an exercise crisis (a drill): never real.",
    )
    request_reference = serializers.SerializerMethodField()
    recipient_state = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    pledging_desk = serializers.CharField(source="pledging_desk.code", read_only=True)
    is_standalone = serializers.BooleanField(read_only=True)

    class Meta:
        model = Pledge
        fields = [
            "id",
            "reference",
            "crisis",
            "crisis_reference",
            "exercise",
            "request",
            "request_reference",
            "recipient_state",
            "state",
            "pledging_desk",
            "is_standalone",
            "sector",
            "item",
            "unit",
            "quantity",
            "quantity_available",
            "quantity_accepted",
            "quantity_received",
            "eta",
            "conditions",
            "status",
            "source_asset",
            "source_offer",
            "reason",
            "offered_at",
            "accepted_at",
            "dispatched_at",
            "delivered_at",
            "closed_at",
        ]
        read_only_fields = fields

    def get_request_reference(self, obj) -> str | None:
        return obj.request.reference if obj.request_id else None

    def get_recipient_state(self, obj) -> str | None:
        return obj.request.state.code if obj.request_id else None

    def get_state(self, obj) -> str | None:
        return obj.state.code if obj.state_id else None


class StandbyAssetSerializer(serializers.ModelSerializer):
    state = serializers.CharField(source="state.code", read_only=True)
    desk = serializers.CharField(source="desk.code", read_only=True)

    class Meta:
        model = StandbyAsset
        fields = [
            "id",
            "state",
            "desk",
            "name",
            "kind",
            "sector",
            "item",
            "unit",
            "capacity",
            "readiness_hours",
            "location",
            "is_available",
            "notes",
        ]
        read_only_fields = fields


class SuggestionSerializer(serializers.Serializer):
    asset = StandbyAssetSerializer()
    item_matches = serializers.BooleanField()
    covers_remaining = serializers.BooleanField()
    suggested_quantity = serializers.IntegerField()
    ready_at = serializers.DateTimeField()


class ShelterSerializer(serializers.ModelSerializer):
    crisis_reference = serializers.CharField(source="crisis.reference", read_only=True)
    exercise = serializers.BooleanField(
        source="crisis.exercise",
        read_only=True,
        help_text="Of an exercise crisis (a drill): never real.",
    )
    country = serializers.CharField(source="country.code", read_only=True)
    managing_state = serializers.CharField(source="managing_state.code", read_only=True)
    managing_desk = serializers.CharField(source="managing_desk.code", read_only=True)

    class Meta:
        model = Shelter
        fields = [
            "id",
            "crisis",
            "crisis_reference",
            "exercise",
            "name",
            "country",
            "managing_state",
            "managing_desk",
            "location",
            "latitude",
            "longitude",
            "admin1_code",
            "admin1_name",
            "admin2_code",
            "admin2_name",
            "capacity",
            "population",
            "status",
            "services",
            "updated_at",
        ]
        read_only_fields = fields


class OccupancySerializer(serializers.ModelSerializer):
    class Meta:
        model = ShelterOccupancy
        fields = ["recorded_at", "population", "capacity", "status"]
        read_only_fields = fields


class DisplacementSerializer(serializers.ModelSerializer):
    crisis_reference = serializers.CharField(source="crisis.reference", read_only=True)
    exercise = serializers.BooleanField(
        source="crisis.exercise",
        read_only=True,
        help_text="Of an exercise crisis (a drill): never real.",
    )
    reported_by_desk = serializers.CharField(source="reported_by_desk.code", read_only=True)
    total_displaced = serializers.IntegerField(read_only=True)

    class Meta:
        model = DisplacementReport
        fields = [
            "id",
            "crisis",
            "crisis_reference",
            "exercise",
            "country_code",
            "country_name",
            "admin1_code",
            "admin1_name",
            "admin2_code",
            "admin2_name",
            "reported_on",
            "round",
            "assessment_type",
            "idps",
            "refugees",
            "total_displaced",
            "source",
            "reported_by_desk",
            "import_job",
        ]
        read_only_fields = fields


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Line number in the file (1 = first line).")
    column = serializers.CharField(help_text="The column as the file names it.")
    field = serializers.CharField(required=False)
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    desk = serializers.CharField(source="desk.code", read_only=True)
    progress_percent = serializers.IntegerField(read_only=True)
    # In the reader's language (a job's problems keep their words: ImportJob.readable_errors).
    errors = ImportErrorSerializer(source="readable_errors", many=True, read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "crisis",
            "desk",
            "filename",
            "status",
            "total_rows",
            "processed_rows",
            "progress_percent",
            "created_count",
            "errors",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class SituationReportSerializer(serializers.ModelSerializer):
    crisis_reference = serializers.CharField(source="crisis.reference", read_only=True)
    exercise = serializers.BooleanField(
        source="crisis.exercise", read_only=True, help_text="The report of an exercise crisis."
    )

    class Meta:
        model = SituationReport
        fields = [
            "id",
            "crisis",
            "crisis_reference",
            "exercise",
            "report_date",
            "content",
            "text",
            "created_at",
        ]
        read_only_fields = fields


class CatalogueItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    sector = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()


# --- input --------------------------------------------------------------------------------


class RequestCreateSerializer(serializers.Serializer):
    crisis = CrisisField()
    desk = DeskField()
    sector = serializers.ChoiceField(choices=Sector.choices)
    item = serializers.ChoiceField(choices=ITEM_CHOICES, help_text=ITEM_FIELD_HELP)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_COUNT)
    needed_by = serializers.DateTimeField()
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    location = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    admin1_code = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    admin1_name = serializers.CharField(
        max_length=120, required=False, default="", allow_blank=True
    )
    notes = serializers.CharField(required=False, default="", allow_blank=True)
    submit = serializers.BooleanField(
        default=False, help_text="Open the request at once instead of saving a draft."
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


class PledgeCreateSerializer(serializers.Serializer):
    """Against a request (``request``), or a standalone offer (``crisis``, ``sector``, ``item``)."""

    request = serializers.IntegerField(
        max_value=MAX_ID, required=False, help_text="Request id; omit for an offer."
    )
    crisis = CrisisField(required=False)
    sector = serializers.ChoiceField(choices=Sector.choices, required=False)
    item = serializers.ChoiceField(choices=ITEM_CHOICES, required=False, help_text=ITEM_FIELD_HELP)
    desk = DeskField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_COUNT)
    eta = serializers.DateTimeField(required=False, allow_null=True, default=None)
    conditions = serializers.CharField(required=False, default="", allow_blank=True)

    def validate(self, attrs):
        if attrs.get("request") is None:
            missing = [f for f in ("crisis", "sector", "item") if not attrs.get(f)]
            if missing:
                raise serializers.ValidationError(
                    {f: [_("required for a standalone offer (no request)")] for f in missing}
                )
        return attrs


class AcceptSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_COUNT, required=False, allow_null=True, default=None
    )
    accept_surplus = serializers.BooleanField(
        default=False, help_text="Accept more than is still open (explicit surplus)."
    )


class ClaimSerializer(AcceptSerializer):
    request = serializers.IntegerField(
        max_value=MAX_ID, help_text="Your request to claim this offer for."
    )


class DispatchSerializer(serializers.Serializer):
    eta = serializers.DateTimeField(required=False, allow_null=True, default=None)


class DeliverySerializer(serializers.Serializer):
    quantity_received = serializers.IntegerField(min_value=0, max_value=MAX_COUNT)
    notes = serializers.CharField(required=False, default="", allow_blank=True)


class OfferFromAssetSerializer(serializers.Serializer):
    request = serializers.IntegerField(
        max_value=MAX_ID,
    )
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_COUNT, required=False, allow_null=True, default=None
    )
    eta = serializers.DateTimeField(required=False, allow_null=True, default=None)
    conditions = serializers.CharField(required=False, default="", allow_blank=True)


class ShelterCreateSerializer(serializers.Serializer):
    crisis = CrisisField()
    desk = DeskField()
    name = serializers.CharField(max_length=200)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_COUNT)
    population = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, default=0)
    location = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    latitude = serializers.DecimalField(
        max_digits=8, decimal_places=5, min_value=-90, max_value=90, required=False, default=None
    )
    longitude = serializers.DecimalField(
        max_digits=8, decimal_places=5, min_value=-180, max_value=180, required=False, default=None
    )
    admin1_code = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    admin1_name = serializers.CharField(
        max_length=120, required=False, default="", allow_blank=True
    )
    admin2_code = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    admin2_name = serializers.CharField(
        max_length=120, required=False, default="", allow_blank=True
    )
    services = serializers.ListField(
        child=serializers.ChoiceField(choices=ShelterService.choices), required=False, default=list
    )


class ShelterUpdateSerializer(serializers.Serializer):
    population = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, required=False)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, required=False)
    status = serializers.ChoiceField(choices=ShelterStatus.choices, required=False)
    services = serializers.ListField(
        child=serializers.ChoiceField(choices=ShelterService.choices), required=False
    )


class ImportCreateSerializer(serializers.Serializer):
    crisis = CrisisField()
    desk = DeskField()
    file = serializers.FileField(required=False, help_text="CSV file (multipart upload).")
    content = serializers.CharField(
        required=False, trim_whitespace=False, help_text="CSV text (JSON body)."
    )

    def validate(self, attrs):
        if bool(attrs.get("file")) == bool(attrs.get("content")):
            raise serializers.ValidationError({"file": [_("send a file or content, not both")]})
        return attrs


ASSET_KINDS = AssetKind.choices
