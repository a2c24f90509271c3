"""The exercises API: scenario files (list, read, upload) and runs (start, read, pause,
resume, add an inject, end). Thin: serializers check shape, ``exercises.services``
decide, reads start from ``exercises.selectors``. Times are UTC (``…_at``) with the lead
desk's local time beside them (``…_local``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import AccessMixin
from core.errors import InvalidInput, NotFound
from exercises import scenario as files
from exercises import selectors, services
from exercises.models import ExerciseRun, Inject


def _check(serializer_class, data) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput(_("The body must be a JSON object."), code="malformed_request")
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        errors = serializer.errors
        first = next(iter(errors))
        raise InvalidInput(
            _("%(first)s: %(errors)s") % {"first": first, "errors": errors[first][0]},
            details={"fields": errors},
        )
    return serializer.validated_data


# --- scenarios ------------------------------------------------------------------------------


class ScenarioOut(serializers.Serializer):
    key = serializers.CharField()
    origin = serializers.ChoiceField(choices=["shipped", "uploaded"])
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    lead_desk = serializers.CharField(allow_blank=True)
    category = serializers.CharField(allow_blank=True)
    affected_states = serializers.ListField(child=serializers.CharField())
    inject_count = serializers.IntegerField()
    duration = serializers.CharField(help_text="The last inject's time offset, e.g. T+1 h.")
    problems = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why the file cannot be played here (empty: it can).",
    )


class ScenarioDetailOut(ScenarioOut):
    source = serializers.CharField()


class ScenarioIn(serializers.Serializer):
    source = serializers.CharField(
        max_length=files.MAX_SOURCE_BYTES, trim_whitespace=False,
        help_text="The scenario file's YAML text (docs/exercises.md).",
    )  # fmt: skip


def describe_scenario(key: str, origin: str, source: str, *, with_source=False) -> dict:
    """What the list shows of one file, with its problems in words (never raises)."""
    out = {"key": key, "origin": origin, "name": key, "description": "", "lead_desk": "",
           "category": "", "affected_states": [], "inject_count": 0, "duration": "T+0",
           "problems": []}  # fmt: skip
    if with_source:
        out["source"] = source
    try:
        spec = files.parse_scenario(source)
        out.update(
            name=spec.name, description=spec.description, lead_desk=spec.crisis.lead_desk,
            category=spec.crisis.category, affected_states=list(spec.crisis.affected_states),
            inject_count=len(spec.injects),
            duration=files.format_offset(spec.duration_seconds),
        )  # fmt: skip
        files.check_references(spec)
    except InvalidInput as exc:
        out["problems"] = [
            (f"line {e['line']}, " if e.get("line") else "") + f"{e['field']}: {e['message']}"
            for e in (exc.details or {}).get("errors", [])
        ] or [exc.message]
    return out


def visible_scenarios(access) -> list[dict]:
    if not selectors.may_list_scenarios(access):
        return []
    shipped = [
        describe_scenario(key, "shipped", text)
        for key, text in selectors.shipped_scenarios().items()
    ]
    supervised = {m.desk.code for m in access.memberships if m.role == "supervisor"}
    if not selectors.may_read_all(access):
        shipped = [s for s in shipped if s["lead_desk"] in supervised]
    uploaded = [
        describe_scenario(row.key, "uploaded", row.source)
        for row in selectors.uploaded_scenarios_visible_to(access)
    ]
    return shipped + uploaded


class ScenarioList(AccessMixin, APIView):
    @extend_schema(
        summary="Scenario files the caller may run",
        responses=ScenarioOut(many=True),
        description="The shipped ones (exercises/scenarios/*.yaml) and the uploaded ones, "
        "each with the problems that stop it from being played here (if any). Coordinators "
        "and auditors see all; a supervisor those led by their desk; others none.",
    )
    def get(self, request):
        return Response(ScenarioOut(visible_scenarios(self.access), many=True).data)

    @extend_schema(
        summary="Upload a scenario file",
        request=ScenarioIn,
        responses={201: ScenarioDetailOut},
        description="Checked in full: every problem comes back with its line and field "
        "(400 invalid_scenario, details.errors). Who: a coordinator, or a supervisor of "
        "the file's lead desk.",
    )
    def post(self, request):
        data = _check(ScenarioIn, request.data)
        row = services.upload_scenario(by=request.user, source=data["source"])
        out = describe_scenario(row.key, "uploaded", row.source, with_source=True)
        return Response(ScenarioDetailOut(out).data, status=status.HTTP_201_CREATED)


class ScenarioDetail(AccessMixin, APIView):
    @extend_schema(summary="One scenario file, with its text", responses=ScenarioDetailOut)
    def get(self, request, key: str):
        origin, source = selectors.scenario_source(self.access, key)
        out = describe_scenario(key, origin, source, with_source=True)
        if origin == "shipped" and not selectors.may_read_all(self.access):
            supervised = {m.desk.code for m in self.access.memberships if m.role == "supervisor"}
            if out["lead_desk"] not in supervised:
                raise NotFound(_("No such scenario."), details={"scenario": key})
        return Response(ScenarioDetailOut(out).data)


# --- runs ---------------------------------------------------------------------------------------


def _local(moment, zone):
    return moment.astimezone(zone).isoformat() if moment else None


class InjectOut(serializers.ModelSerializer):
    desk = serializers.CharField(source="desk.code")
    at = serializers.SerializerMethodField(help_text="Scenario time, e.g. T+5 min.")
    due_local = serializers.SerializerMethodField()
    played_local = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display")
    added_by = serializers.CharField(source="added_by.username", allow_null=True, default=None)

    class Meta:
        model = Inject
        fields = ["id", "at", "at_seconds", "type", "desk", "what", "fields", "line", "status",
                  "status_label", "due_at", "due_local", "played_at", "played_local",
                  "outcome", "added_by"]  # fmt: skip

    def get_at(self, inject) -> str:
        return files.format_offset(inject.at_seconds)

    def get_due_local(self, inject) -> str | None:
        return _local(inject.due_at, inject.run.lead_desk.zone)

    def get_played_local(self, inject) -> str | None:
        return _local(inject.played_at, inject.run.lead_desk.zone)


class RunOut(serializers.ModelSerializer):
    scenario = serializers.CharField(source="scenario_key")
    crisis = serializers.IntegerField(source="crisis_id")
    crisis_reference = serializers.CharField(source="crisis.reference")
    lead_desk = serializers.CharField(source="lead_desk.code")
    time_zone = serializers.CharField(source="lead_desk.time_zone")
    controller_desk = serializers.CharField(source="controller_desk.code")
    started_by = serializers.CharField(source="started_by.username")
    status_label = serializers.CharField(source="get_status_display")
    clock = serializers.SerializerMethodField(help_text="Scenario time now, e.g. T+12 min.")
    started_local = serializers.SerializerMethodField()

    class Meta:
        model = ExerciseRun
        fields = ["id", "scenario", "scenario_name", "crisis", "crisis_reference", "lead_desk",
                  "time_zone", "controller_desk", "started_by", "status", "status_label",
                  "speed", "clock", "started_at", "started_local", "paused_at",
                  "paused_seconds", "ended_at"]  # fmt: skip

    def get_clock(self, run) -> str:
        return files.format_offset(services.scenario_seconds(run))

    def get_started_local(self, run) -> str | None:
        return _local(run.started_at, run.lead_desk.zone)


class RunDetailOut(RunOut):
    injects = serializers.SerializerMethodField()

    class Meta(RunOut.Meta):
        fields = [*RunOut.Meta.fields, "injects"]

    @extend_schema_field(InjectOut(many=True))
    def get_injects(self, run) -> list:
        return InjectOut(selectors.injects_of(run), many=True).data


class RunIn(serializers.Serializer):
    scenario = serializers.CharField(max_length=80, help_text="A scenario's key.")
    speed = serializers.IntegerField(
        min_value=1, max_value=services.MAX_SPEED, default=1,
        help_text="Scenario seconds per real second: 1 is real time, 60 plays an hour in a "
        "minute (a rehearsal).",
    )  # fmt: skip


_NUMBERS = {"quantity", "capacity", "population"}


def _inject_in_fields() -> dict:
    fields = {
        "at": serializers.CharField(
            required=False, max_length=40, help_text='Scenario time ("T+20 min"), or "now".'
        ),
        "type": serializers.ChoiceField(choices=files.INJECT_TYPES),
        "desk": serializers.CharField(required=False, max_length=32),
        "what": serializers.CharField(required=False, max_length=200),
    }
    for name in sorted({f for spec in files.INJECT_FIELDS.values() for f in spec}):
        if name in _NUMBERS:
            fields[name] = serializers.IntegerField(required=False)
        else:
            fields[name] = serializers.CharField(required=False, max_length=4000)
    return fields


#: The inject as in a file (docs/exercises.md), as a JSON object; which fields a type
#: takes (and requires) is checked by ``exercises.scenario``, naming the field.
InjectIn = type("InjectIn", (serializers.Serializer,), _inject_in_fields())


def _run_detail(run) -> dict:
    run = ExerciseRun.objects.select_related(
        "crisis", "lead_desk", "controller_desk", "started_by"
    ).get(pk=run.pk)
    return RunDetailOut(run).data


class RunList(AccessMixin, generics.GenericAPIView):
    serializer_class = RunOut

    def get_queryset(self):
        return selectors.runs_visible_to(self.access)

    @extend_schema(summary="Exercise runs the caller may read", responses=RunOut(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(RunOut(page, many=True).data)

    @extend_schema(
        summary="Start a run of a scenario",
        request=RunIn,
        responses={201: RunDetailOut},
        description="Opens the exercise crisis and arms every inject. Who: a coordinator, "
        "or a supervisor of the scenario's lead desk.",
    )
    def post(self, request):
        data = _check(RunIn, request.data)
        run = services.start_run(
            by=request.user, scenario_key=data["scenario"], speed=data["speed"]
        )
        return Response(_run_detail(run), status=status.HTTP_201_CREATED)


class RunDetail(AccessMixin, APIView):
    @extend_schema(summary="A run with its injects and their state", responses=RunDetailOut)
    def get(self, request, id: int):
        return Response(_run_detail(selectors.run_for(self.access, id)))


def _action(name: str, service, summary: str):
    class RunAction(AccessMixin, APIView):
        @extend_schema(summary=summary, request=None, responses=RunDetailOut)
        def post(self, request, id: int):
            return Response(_run_detail(service(by=request.user, run_id=id)))

    RunAction.__name__ = RunAction.__qualname__ = name
    return RunAction


RunPause = _action("RunPause", services.pause_run, "Pause: pending injects are held")
RunResume = _action(
    "RunResume", services.resume_run, "Resume: held injects come later by the pause's length"
)
RunEnd = _action("RunEnd", services.end_run, "End: injects not played yet are withdrawn")


class RunInjects(AccessMixin, APIView):
    @extend_schema(
        summary="Add an inject to a run, live",
        request=InjectIn,
        responses={201: InjectOut},
        description="Checked like a file's inject (400 invalid_scenario names the field). "
        "A time already passed (or `now`) plays at once; on a paused run it is held.",
    )
    def post(self, request, id: int):
        if not isinstance(request.data, dict):
            raise InvalidInput(_("The body must be a JSON object."), code="malformed_request")
        row = services.add_inject(by=request.user, run_id=id, inject=dict(request.data))
        row = Inject.objects.select_related("desk", "run__lead_desk", "added_by").get(pk=row.pk)
        return Response(InjectOut(row).data, status=status.HTTP_201_CREATED)
