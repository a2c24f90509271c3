"""Query filters for the list endpoints: crisis, sector, status, state (and a few more)."""

from __future__ import annotations

import django_filters as filters

from crisis.exercise import ALL, EXERCISE_HELP, exercise_scope, scoped
from humanitarian.models import (
    AssetKind,
    AssistanceRequest,
    DisplacementReport,
    Pledge,
    PledgeStatus,
    Priority,
    RequestStatus,
    Sector,
    Shelter,
    ShelterStatus,
    StandbyAsset,
)

STATE_HELP = "ISO 3166-1 alpha-3 code of the member state, e.g. THA."


class ExerciseFilter(filters.CharFilter):
    """``?exercise=true|false|all`` on items of a crisis (lists show both by default,
    each marked ``exercise``)."""

    def __init__(self, **kwargs):
        super().__init__(help_text=EXERCISE_HELP, **kwargs)

    def filter(self, qs, value):
        return scoped(qs, exercise_scope(value, default=ALL), path="crisis__exercise")


class StateCodeFilter(filters.CharFilter):
    def filter(self, qs, value):
        return super().filter(qs, value.strip().upper() if value else value)


class RequestFilter(filters.FilterSet):
    crisis = filters.NumberFilter(field_name="crisis_id")
    exercise = ExerciseFilter()
    sector = filters.ChoiceFilter(choices=Sector.choices)
    status = filters.MultipleChoiceFilter(choices=RequestStatus.choices)
    state = StateCodeFilter(field_name="state__code", help_text=STATE_HELP)
    item = filters.CharFilter()
    priority = filters.ChoiceFilter(choices=Priority.choices)
    overdue = filters.BooleanFilter(method="filter_overdue", help_text="Past needed-by, open.")

    class Meta:
        model = AssistanceRequest
        fields = ["crisis", "sector", "status", "state", "item", "priority"]

    def filter_overdue(self, qs, name, value):
        from django.utils import timezone

        from humanitarian.models import LIVE_REQUEST_STATUSES

        overdue = {"needed_by__lt": timezone.now(), "status__in": LIVE_REQUEST_STATUSES}
        return qs.filter(**overdue) if value else qs.exclude(**overdue)


class PledgeFilter(filters.FilterSet):
    crisis = filters.NumberFilter(field_name="crisis_id")
    exercise = ExerciseFilter()
    sector = filters.ChoiceFilter(choices=Sector.choices)
    status = filters.MultipleChoiceFilter(choices=PledgeStatus.choices)
    state = StateCodeFilter(field_name="state__code", help_text="Pledging state. " + STATE_HELP)
    request = filters.NumberFilter(field_name="request_id")
    standalone = filters.BooleanFilter(field_name="request", lookup_expr="isnull")

    class Meta:
        model = Pledge
        fields = ["crisis", "sector", "status", "state", "request"]


class StandbyAssetFilter(filters.FilterSet):
    sector = filters.ChoiceFilter(choices=Sector.choices)
    state = StateCodeFilter(field_name="state__code", help_text=STATE_HELP)
    kind = filters.ChoiceFilter(choices=AssetKind.choices)
    item = filters.CharFilter()
    is_available = filters.BooleanFilter()

    class Meta:
        model = StandbyAsset
        fields = ["sector", "state", "kind", "item", "is_available"]


class ShelterFilter(filters.FilterSet):
    crisis = filters.NumberFilter(field_name="crisis_id")
    exercise = ExerciseFilter()
    status = filters.ChoiceFilter(choices=ShelterStatus.choices)
    state = StateCodeFilter(field_name="managing_state__code", help_text=STATE_HELP)
    admin1 = filters.CharFilter(field_name="admin1_code")

    class Meta:
        model = Shelter
        fields = ["crisis", "status", "state", "admin1"]


class DisplacementFilter(filters.FilterSet):
    crisis = filters.NumberFilter(field_name="crisis_id")
    exercise = ExerciseFilter()
    state = StateCodeFilter(field_name="country_code", help_text=STATE_HELP)
    admin1 = filters.CharFilter(field_name="admin1_code")
    round = filters.NumberFilter()

    class Meta:
        model = DisplacementReport
        fields = ["crisis", "state", "admin1", "round"]
