"""The rosters API: rosters, shifts, overrides, handover notes, iCalendar in and out, and
who is on duty. Thin: input serializers check shape, ``rosters.services`` decide, reads
start from ``rosters.selectors``. Times are UTC (``…_at``) with the desk's local time
beside them (``…_local``); times typed without an offset are read in the desk's zone."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import generics, parsers, renderers, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.api import AccessMixin
from core.errors import InvalidInput, NotFound, PayloadTooLarge
from rosters import ical, rules, selectors, services, times
from rosters.models import MAX_SHIFT_MINUTES, HandoverNote, Override, Roster, Shift

MAX_ID = 2**63 - 1


def _local(moment: datetime | None, zone) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _check(serializer_class, data, context=None) -> dict:
    """Validated input or one 400 naming every bad field."""
    if not isinstance(data, dict):
        raise InvalidInput(_("The body must be a JSON object."), code="malformed_request")
    serializer = serializer_class(data=data, context=context or {})
    if not serializer.is_valid():
        errors = serializer.errors
        first = next(iter(errors))
        raise InvalidInput(
            _("%(first)s: %(errors)s") % {"first": first, "errors": errors[first][0]},
            details={"fields": errors},
        )
    return serializer.validated_data


def _roster(view, *, manage: bool = False) -> Roster:
    roster = selectors.roster_for(view.access, _id(view.kwargs["id"]))
    if manage:
        rules.require_manage(view.access, roster.desk)
    return roster


def _id(value) -> int:
    number = int(value)
    if number > MAX_ID:
        raise NotFound(_("No such roster entry."))
    return number


# --- output -------------------------------------------------------------------------------


class PersonOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField(source="get_full_name")


class ShiftOut(serializers.ModelSerializer):
    person = serializers.CharField(source="person.username")
    starts_local = serializers.SerializerMethodField()
    until_local = serializers.SerializerMethodField()
    # Wall-clock "HH:MM:SS" in the desk's zone, no offset: not an RFC 3339 "time".
    start_time = serializers.SerializerMethodField()

    class Meta:
        model = Shift
        fields = ["id", "uid", "person", "starts_local", "first_date", "start_time",
                  "duration_minutes", "rrule", "until", "until_local"]  # fmt: skip

    def get_start_time(self, shift) -> str:
        return shift.start_time.isoformat()

    def get_starts_local(self, shift) -> str:
        return datetime.combine(shift.first_date, shift.start_time).isoformat(timespec="minutes")

    def get_until_local(self, shift) -> str | None:
        return _local(shift.until, shift.roster.desk.zone)


class OverrideOut(serializers.ModelSerializer):
    person = serializers.CharField(source="person.username")
    starts_local = serializers.SerializerMethodField()
    ends_local = serializers.SerializerMethodField()

    class Meta:
        model = Override
        fields = ["id", "uid", "person", "starts_at", "ends_at", "starts_local", "ends_local",
                  "note"]  # fmt: skip

    def get_starts_local(self, override) -> str:
        return _local(override.starts_at, override.roster.desk.zone)

    def get_ends_local(self, override) -> str:
        return _local(override.ends_at, override.roster.desk.zone)


class HandoverNoteOut(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField(source="author.username")
    written_at = serializers.DateTimeField()
    text = serializers.CharField()
    shift_ending_at = serializers.DateTimeField(allow_null=True)


class RosterOut(serializers.ModelSerializer):
    desk = serializers.CharField(source="desk.code")
    time_zone = serializers.CharField(source="desk.time_zone")

    class Meta:
        model = Roster
        fields = ["id", "desk", "time_zone", "created_at", "updated_at"]


class RosterDetailOut(RosterOut):
    shifts = serializers.SerializerMethodField()
    overrides = serializers.SerializerMethodField()
    handover_notes = serializers.SerializerMethodField()

    class Meta(RosterOut.Meta):
        fields = [*RosterOut.Meta.fields, "shifts", "overrides", "handover_notes"]

    @extend_schema_field(ShiftOut(many=True))
    def get_shifts(self, roster):
        return ShiftOut(selectors.shifts_of(roster), many=True).data

    @extend_schema_field(OverrideOut(many=True))
    def get_overrides(self, roster):
        upcoming = selectors.overrides_of(roster, ending_after=timezone.now())
        return OverrideOut(upcoming, many=True).data

    @extend_schema_field(HandoverNoteOut(many=True))
    def get_handover_notes(self, roster):
        return HandoverNoteOut(selectors.handover_notes_of(roster), many=True).data


class OnDutyOut(serializers.Serializer):
    desk = serializers.CharField()
    time_zone = serializers.CharField()
    at = serializers.DateTimeField()
    at_local = serializers.CharField()
    people = PersonOut(many=True)
    is_fallback = serializers.BooleanField()
    until = serializers.DateTimeField(allow_null=True)
    until_local = serializers.CharField(allow_null=True)


# --- input --------------------------------------------------------------------------------


class ShiftIn(serializers.Serializer):
    person = serializers.CharField(max_length=150, help_text="Username of one of the desk's people")
    starts_local = serializers.CharField(
        max_length=64, help_text="First start, the desk's wall clock: 2026-03-02T08:00"
    )
    duration_minutes = serializers.IntegerField(min_value=1, max_value=MAX_SHIFT_MINUTES)
    rrule = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    until = serializers.CharField(max_length=64, required=False, allow_null=True, default=None)


class OverrideIn(serializers.Serializer):
    person = serializers.CharField(max_length=150)
    starts_at = serializers.CharField(max_length=64, help_text="ISO 8601; no offset: desk time")
    ends_at = serializers.CharField(max_length=64, help_text="ISO 8601; no offset: desk time")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class HandoverNoteIn(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    shift_ending_at = serializers.CharField(max_length=64, required=False, allow_null=True)


class ImportIn(serializers.Serializer):
    ics = serializers.CharField(max_length=1_000_000, trim_whitespace=False)
    replace = serializers.BooleanField(required=False, default=False)


class ICalendarParser(parsers.BaseParser):
    """A raw ``text/calendar`` body (what calendar tools send), bounded like JSON."""

    media_type = "text/calendar"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(
                _("The calendar is larger than %(limit)s bytes.") % {"limit": limit}
            )
        return {"ics": body.decode("utf-8", errors="replace")}


class ICalendarRenderer(renderers.BaseRenderer):
    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


# --- views --------------------------------------------------------------------------------


class RosterList(AccessMixin, generics.ListAPIView):
    """The rosters the caller may read: their desks' and their state's (all, for
    coordinators and auditors)."""

    serializer_class = RosterOut
    filter_backends = []
    queryset = Roster.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self):
        return selectors.rosters_visible_to(self.access)


class RosterDetail(AccessMixin, generics.GenericAPIView):
    """A roster: its shifts, upcoming overrides and latest handover notes."""

    serializer_class = RosterDetailOut

    def get(self, request, id):
        return Response(RosterDetailOut(_roster(self)).data)


class RosterCalendar(AccessMixin, generics.GenericAPIView):
    """The roster as an iCalendar (RFC 5545) file: shifts and overrides."""

    renderer_classes = [ICalendarRenderer, renderers.JSONRenderer]

    def handle_exception(self, exc):
        # Errors keep the one JSON shape, whatever calendar the client asked for.
        response = super().handle_exception(exc)
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return response

    @extend_schema(responses={(200, "text/calendar"): OpenApiTypes.STR})
    def get(self, request, id):
        roster = _roster(self)
        body = ical.roster_calendar(
            roster, selectors.shifts_of(roster), selectors.overrides_of(roster)
        )
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="roster-{roster.desk.code}.ics"'
        return response


class RosterImport(AccessMixin, generics.GenericAPIView):
    """Import an iCalendar file into the roster (all or nothing). JSON ``{"ics": …,
    "replace": false}`` or a raw ``text/calendar`` body (``?replace=true``)."""

    serializer_class = ImportIn
    parser_classes = [ICalendarParser, *api_settings.DEFAULT_PARSER_CLASSES]

    @extend_schema(responses={200: inline_serializer("ImportOut", {
        "shifts": serializers.IntegerField(), "overrides": serializers.IntegerField(),
        "removed": serializers.IntegerField()})})  # fmt: skip
    def post(self, request, id):
        roster = _roster(self, manage=True)
        data = request.data
        if isinstance(data, dict) and "replace" not in data and "replace" in request.query_params:
            data = {**data, "replace": request.query_params["replace"]}
        valid = _check(ImportIn, data)
        result = services.import_calendar(
            by=request.user, roster=roster, ics=valid["ics"], replace=valid["replace"]
        )
        return Response(
            {"shifts": result.shifts, "overrides": result.overrides, "removed": result.removed}
        )


class ShiftCreate(AccessMixin, generics.GenericAPIView):
    """Put one of the desk's people on a shift (once, or repeating by an RRULE)."""

    serializer_class = ShiftIn

    @extend_schema(request=ShiftIn, responses={201: ShiftOut})
    def post(self, request, id):
        roster = _roster(self, manage=True)
        zone = roster.desk.zone
        valid = _check(ShiftIn, request.data)
        until = valid.get("until")
        shift = services.add_shift(
            by=request.user,
            roster=roster,
            person=valid["person"],
            starts_local=times.wall_clock(valid["starts_local"], zone, field="starts_local"),
            duration_minutes=valid["duration_minutes"],
            rrule=valid["rrule"],
            until=times.instant(until, zone, field="until") if until else None,
        )
        return Response(ShiftOut(shift).data, status=status.HTTP_201_CREATED)


class ShiftDetail(AccessMixin, generics.GenericAPIView):
    serializer_class = ShiftOut

    def delete(self, request, id):
        services.remove_shift(by=request.user, shift=selectors.shift_for(self.access, _id(id)))
        return Response(status=status.HTTP_204_NO_CONTENT)


class OverrideCreate(AccessMixin, generics.GenericAPIView):
    """Someone covers an interval ("I cover tonight"): they alone are on duty during it."""

    serializer_class = OverrideIn

    @extend_schema(request=OverrideIn, responses={201: OverrideOut})
    def post(self, request, id):
        roster = _roster(self, manage=True)
        zone = roster.desk.zone
        valid = _check(OverrideIn, request.data)
        override = services.add_override(
            by=request.user,
            roster=roster,
            person=valid["person"],
            starts_at=times.instant(valid["starts_at"], zone, field="starts_at"),
            ends_at=times.instant(valid["ends_at"], zone, field="ends_at"),
            note=valid["note"],
        )
        return Response(OverrideOut(override).data, status=status.HTTP_201_CREATED)


class OverrideDetail(AccessMixin, generics.GenericAPIView):
    serializer_class = OverrideOut

    def delete(self, request, id):
        override = selectors.override_for(self.access, _id(id))
        services.remove_override(by=request.user, override=override)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HandoverNotes(AccessMixin, generics.GenericAPIView):
    """Handover notes: the latest first; the desk's people write them."""

    serializer_class = HandoverNoteIn
    pagination_class = None  # the latest notes, as a plain list
    queryset = HandoverNote.objects.none()  # for the schema; requests go through the selector

    @extend_schema(responses={200: HandoverNoteOut(many=True)})
    def get(self, request, id):
        return Response(HandoverNoteOut(selectors.handover_notes_of(_roster(self)), many=True).data)

    @extend_schema(request=HandoverNoteIn, responses={201: HandoverNoteOut})
    def post(self, request, id):
        roster = _roster(self)
        valid = _check(HandoverNoteIn, request.data)
        ending = valid.get("shift_ending_at")
        note = services.write_handover_note(
            by=request.user,
            roster=roster,
            text=valid["text"],
            shift_ending_at=(
                times.instant(ending, roster.desk.zone, field="shift_ending_at") if ending else None
            ),
        )
        return Response(HandoverNoteOut(note).data, status=status.HTTP_201_CREATED)


class DeskRoster(AccessMixin, generics.GenericAPIView):
    """Open the desk's roster (idempotent): 201 when made, 200 when it was there."""

    serializer_class = RosterOut

    @extend_schema(request=None, responses={200: RosterOut, 201: RosterOut})
    def post(self, request, code):
        desk = selectors.desk_for(self.access, code)
        roster, created = services.open_roster(by=request.user, desk=desk)
        return Response(RosterOut(roster).data, status=201 if created else 200)


class OnDutyView(AccessMixin, generics.GenericAPIView):
    """Who is on duty at the desk now, or at ``?at=`` (ISO 8601; no offset: desk time).
    ``is_fallback``: nobody is on shift, these are the desk's supervisors. ``until``: when
    the answer next changes (null: not within 14 days)."""

    serializer_class = OnDutyOut

    @extend_schema(
        parameters=[OpenApiParameter("at", str, description="ISO 8601 date-time; default now")]
    )
    def get(self, request, code):
        desk = selectors.desk_for(self.access, code)
        zone = desk.zone
        at = request.query_params.get("at")
        answer = selectors.on_duty(desk, at=times.instant(at, zone, field="at") if at else None)
        data = {
            "desk": desk.code,
            "time_zone": desk.time_zone,
            "at": answer.at,
            "at_local": _local(answer.at, zone),
            "people": answer.people,
            "is_fallback": answer.is_fallback,
            "until": answer.until,
            "until_local": _local(answer.until, zone),
        }
        return Response(OnDutyOut(data).data)
