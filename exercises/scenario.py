"""Scenario files: YAML read into a :class:`ScenarioSpec`, with errors that name line and field.

The file is *composed* (PyYAML's node tree keeps each node's line) and walked by hand, so
every problem is reported as ``line 14, injects[2].at: "T+5 mins" is not a time offset
like T+5 min``. All problems are collected, not only the first; they come back in one
:class:`~core.errors.InvalidInput` (``invalid_scenario``) whose details list them as
``{"line", "field", "message"}``. Aliases and anchors are refused (no billion laughs),
and so are unknown fields (a typo must not silently drop an inject).

The format is documented in docs/exercises.md; :data:`INJECT_FIELDS` is its one
definition of what each inject type takes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import yaml
from django.utils.translation import gettext as _

from core.errors import InvalidInput

#: Largest scenario file accepted (bytes) and most injects in one scenario.
MAX_SOURCE_BYTES = 64 * 1024
MAX_INJECTS = 500
#: An inject may come at most this long after the start (scenario time).
MAX_OFFSET = timedelta(days=7)
MAX_TEXT = 2000

_PART = r"(\d{1,6})\s*(d|h|min|s)"
OFFSET_RE = re.compile(rf"^T\s*\+\s*(?:0|(?:{_PART}\s*)+)$")
DURATION_RE = re.compile(rf"^(?:{_PART}\s*)+$")
UNIT_SECONDS = {"d": 86400, "h": 3600, "min": 60, "s": 1}

INJECT_TYPES = (
    "cap_alert",
    "situation_update",
    "message",
    "request",
    "shelter",
    "transition",
)

#: type -> {field: required?}; every inject also takes ``at``, ``type``, ``desk``, ``what``.
INJECT_FIELDS: dict[str, dict[str, bool]] = {
    "cap_alert": {
        "sender": False,
        "sender_name": True,
        "headline": True,
        "description": False,
        "severity": False,
        "urgency": False,
        "certainty": False,
    },
    "situation_update": {"conditions": True, "actions": False, "needs": False},
    "message": {"body": True, "priority": False, "to": False},
    "request": {
        "sector": True,
        "item": True,
        "quantity": True,
        "needed_within": False,
        "priority": False,
        "location": False,
    },
    "shelter": {"name": True, "capacity": True, "population": False, "location": False},
    "transition": {"to": True, "reason": False},
}
COMMON_INJECT_FIELDS = ("at", "type", "desk", "what")
CRISIS_FIELDS = {
    "category": True,
    "title": True,
    "severity": True,
    "affected_states": True,
    "lead_desk": True,
    "description": False,
    "admin_area": False,
    "latitude": False,
    "longitude": False,
}
TOP_FIELDS = {"name": True, "description": False, "crisis": True, "injects": True}

CAP_SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CAP_URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
CAP_CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
SENDER_RE = re.compile(r"^[^\s,<&]{1,120}$")


@dataclass(frozen=True)
class CrisisSpec:
    category: str
    title: str
    severity: int
    affected_states: tuple[str, ...]
    lead_desk: str
    description: str = ""
    admin_area: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class InjectSpec:
    at_seconds: int
    type: str
    desk: str
    what: str
    fields: dict = field(default_factory=dict)
    line: int = 0
    path: str = ""
    #: field -> its line in the file (for problems found later, e.g. an unknown desk)
    field_lines: dict = field(default_factory=dict, compare=False, repr=False)

    def as_json(self) -> dict:
        return {
            "at_seconds": self.at_seconds,
            "type": self.type,
            "desk": self.desk,
            "what": self.what,
            "fields": self.fields,
        }


@dataclass(frozen=True)
class ScenarioSpec:
    name: str
    description: str
    crisis: CrisisSpec
    injects: tuple[InjectSpec, ...]

    @property
    def duration_seconds(self) -> int:
        return max((i.at_seconds for i in self.injects), default=0)


@dataclass
class Problem:
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        return f"{where}{self.field}: {self.message}" if self.field else f"{where}{self.message}"


# --- time offsets ------------------------------------------------------------------------------


def _seconds_of(text: str) -> int:
    return sum(int(n) * UNIT_SECONDS[unit] for n, unit in re.findall(_PART, text))


def parse_offset(value) -> int | None:
    """``T+0``, ``T+5 min``, ``T+1 h 30 min``, ``T+45 s`` → seconds; None if not one."""
    if not isinstance(value, str) or not OFFSET_RE.match(value.strip()):
        return None
    return _seconds_of(value.strip()[value.index("+") + 1 :])


def parse_duration(value) -> int | None:
    """``48 h``, ``2 d``, ``90 min`` → seconds; None if not one."""
    if not isinstance(value, str) or not DURATION_RE.match(value.strip()):
        return None
    seconds = _seconds_of(value)
    return seconds or None


def format_offset(seconds: int) -> str:
    """Seconds → ``T+1 h 5 min`` (the form the files use)."""
    if seconds <= 0:
        return "T+0"
    parts = []
    for unit in ("d", "h", "min", "s"):
        n, seconds = divmod(seconds, UNIT_SECONDS[unit])
        if n:
            parts.append(f"{n} {unit}")
    return "T+" + " ".join(parts)


# --- reading ------------------------------------------------------------------------------------


def _shown(value) -> str:
    """A value echoed in a problem: short, and encodable (no lone surrogates)."""
    text = str(value).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= 80 else text[:77] + "..."


class _Reader:
    """Walks the composed node tree, collecting problems with their lines."""

    def __init__(self, loader: yaml.SafeLoader):
        self.loader = loader
        self.problems: list[Problem] = []
        self._seen: set[int] = set()

    def problem(self, node, path: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(Problem(line, path, message))

    def visit(self, node, path: str) -> bool:
        if id(node) in self._seen:
            self.problem(node, path, _("anchors and aliases (&, *) are not allowed"))
            return False
        self._seen.add(id(node))
        return True

    def mapping(self, node, path: str, spec: dict[str, bool], *, extra=()) -> dict | None:
        """A mapping's value nodes by key, checking required and unknown keys."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, path or _("the file"), _("expected a mapping of fields"))
            return None
        out = {}
        known = set(spec) | set(extra)
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            where = f"{path}.{key}" if path else str(key)
            if key not in known:
                self.problem(
                    key_node,
                    where,
                    _("unknown field; expected one of: %(fields)s")
                    % {"fields": ", ".join(sorted(known))},
                )
                continue
            if key in out:
                self.problem(key_node, where, _("given twice"))
                continue
            if not self.visit(value_node, where):
                continue
            out[key] = value_node
        for key, required in spec.items():
            if required and key not in out:
                where = f"{path}.{key}" if path else key
                self.problem(node, where, _("missing (required)"))
        return out

    def scalar(self, node, path: str):
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, path, _("expected a single value, not a list or mapping"))
            return None
        return self.loader.construct_object(node, deep=True)

    def text(self, nodes: dict, key: str, path: str, *, default="", limit=MAX_TEXT):
        node = nodes.get(key)
        if node is None:
            return default
        value = self.scalar(node, f"{path}.{key}" if path else key)
        if value is None:
            return default
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.problem(node, f"{path}.{key}" if path else key, _("expected text"))
            return default
        value = str(value).strip()
        if "\x00" in value:
            self.problem(node, f"{path}.{key}", _("the NUL character is not allowed"))
            return default
        if len(value) > limit:
            self.problem(
                node,
                f"{path}.{key}" if path else key,
                _("too long (%(n)d characters; at most %(limit)d)")
                % {"n": len(value), "limit": limit},
            )
            return default
        return value

    def integer(self, nodes: dict, key: str, path: str, *, low: int, high: int, default=None):
        node = nodes.get(key)
        if node is None:
            return default
        value = self.scalar(node, f"{path}.{key}")
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(
                node,
                f"{path}.{key}",
                _("%(value)r is not a whole number from %(low)d to %(high)d")
                % {"value": value, "low": low, "high": high},
            )
            return default
        return value

    def number(self, nodes: dict, key: str, path: str, *, limit: float):
        node = nodes.get(key)
        if node is None:
            return None
        value = self.scalar(node, f"{path}.{key}")
        if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > limit:
            self.problem(
                node,
                f"{path}.{key}",
                _("%(value)r is not a number from -%(limit)s to %(limit)s")
                % {"value": value, "limit": limit},
            )
            return None
        return float(value)

    def choice(self, nodes: dict, key: str, path: str, choices, *, default=None):
        node = nodes.get(key)
        if node is None:
            return default
        value = self.scalar(node, f"{path}.{key}")
        if value not in choices:
            self.problem(
                node,
                f"{path}.{key}",
                _("%(value)r is not one of: %(choices)s")
                % {"value": value, "choices": ", ".join(choices)},
            )
            return default
        return value


def _crisis(r: _Reader, node) -> CrisisSpec | None:
    from crisis.models import CrisisCategory

    nodes = r.mapping(node, "crisis", CRISIS_FIELDS)
    if nodes is None:
        return None
    before = len(r.problems)
    states_node = nodes.get("affected_states")
    states: list[str] = []
    if states_node is not None:
        if not isinstance(states_node, yaml.SequenceNode) or not states_node.value:
            r.problem(
                states_node,
                "crisis.affected_states",
                _("expected a list of ISO 3166-1 alpha-3 codes, like [THA, IDN]"),
            )
        else:
            for i, item in enumerate(states_node.value):
                if not r.visit(item, f"crisis.affected_states[{i}]"):
                    continue
                code = r.scalar(item, f"crisis.affected_states[{i}]")
                if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{3}", code):
                    r.problem(
                        item,
                        f"crisis.affected_states[{i}]",
                        _("%(value)r is not an ISO 3166-1 alpha-3 code like THA") % {"value": code},
                    )
                else:
                    states.append(code)
    spec = CrisisSpec(
        category=r.choice(nodes, "category", "crisis", CrisisCategory.values, default=""),
        title=r.text(nodes, "title", "crisis", limit=200),
        severity=r.integer(nodes, "severity", "crisis", low=1, high=5, default=1),
        affected_states=tuple(dict.fromkeys(states)),
        lead_desk=r.text(nodes, "lead_desk", "crisis", limit=32),
        description=r.text(nodes, "description", "crisis"),
        admin_area=r.text(nodes, "admin_area", "crisis", limit=120),
        latitude=r.number(nodes, "latitude", "crisis", limit=90),
        longitude=r.number(nodes, "longitude", "crisis", limit=180),
    )
    if "title" in nodes and not spec.title and len(r.problems) == before:
        r.problem(nodes["title"], "crisis.title", _("must not be empty"))
    if (spec.latitude is None) != (spec.longitude is None) and len(r.problems) == before:
        r.problem(node, "crisis.latitude", _("give both latitude and longitude, or neither"))
    return spec


def read_inject(r: _Reader, node, path: str, *, lead_desk: str) -> InjectSpec | None:
    """One inject mapping (also used for an inject added live, from JSON)."""
    if not isinstance(node, yaml.MappingNode):
        r.problem(node, path, _("expected a mapping (at, type, desk, …)"))
        return None
    type_node = next(
        (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == "type"), None
    )
    kind = r.scalar(type_node, f"{path}.type") if type_node is not None else None
    if type_node is not None and kind not in INJECT_TYPES:
        r.problem(
            type_node,
            f"{path}.type",
            _("%(value)r is not an inject type; one of: %(types)s")
            % {"value": kind, "types": ", ".join(INJECT_TYPES)},
        )
        kind = None
    spec = {"at": True, "type": True, "desk": False, "what": False}
    if kind:
        spec |= INJECT_FIELDS[kind]
    before = len(r.problems)
    nodes = r.mapping(node, path, spec, extra=() if kind else _all_inject_fields())
    if nodes is None:
        return None
    at_seconds = None
    if "at" in nodes:
        raw = r.scalar(nodes["at"], f"{path}.at")
        at_seconds = parse_offset(raw)
        if at_seconds is None:
            r.problem(
                nodes["at"],
                f"{path}.at",
                _('"%(value)s" is not a time offset like T+5 min') % {"value": _shown(raw)},
            )
        elif at_seconds > MAX_OFFSET.total_seconds():
            r.problem(nodes["at"], f"{path}.at", _("more than 7 d after the start"))
            at_seconds = None
    desk = r.text(nodes, "desk", path, limit=32) or lead_desk
    what = r.text(nodes, "what", path, limit=200)
    if not kind:
        return None
    fields = _inject_fields(r, kind, nodes, path)
    if len(r.problems) > before or at_seconds is None:
        return None
    return InjectSpec(
        at_seconds=at_seconds,
        type=kind,
        desk=desk,
        what=what or _default_what(kind, desk, fields),
        fields=fields,
        line=node.start_mark.line + 1,
        path=path,
        field_lines={key: value.start_mark.line + 1 for key, value in nodes.items()},
    )


def _all_inject_fields() -> tuple[str, ...]:
    return tuple({f for fields in INJECT_FIELDS.values() for f in fields})


def _inject_fields(r: _Reader, kind: str, nodes: dict, path: str) -> dict:
    from hotline.models import Priority as MessagePriority
    from humanitarian.models import ITEMS, Priority, Sector

    if kind == "cap_alert":
        sender = r.text(nodes, "sender", path, default="exercise-control", limit=120)
        if sender and not SENDER_RE.match(sender):
            r.problem(nodes["sender"], f"{path}.sender", _("no spaces, commas, < or & allowed"))
        return {
            "sender": sender,
            "sender_name": r.text(nodes, "sender_name", path, limit=200),
            "headline": r.text(nodes, "headline", path, limit=160),
            "description": r.text(nodes, "description", path),
            "severity": r.choice(nodes, "severity", path, CAP_SEVERITIES, default="Severe"),
            "urgency": r.choice(nodes, "urgency", path, CAP_URGENCIES, default="Immediate"),
            "certainty": r.choice(nodes, "certainty", path, CAP_CERTAINTIES, default="Observed"),
        }
    if kind == "situation_update":
        return {
            "conditions": r.text(nodes, "conditions", path),
            "actions": r.text(nodes, "actions", path),
            "needs": r.text(nodes, "needs", path),
        }
    if kind == "message":
        return {
            "body": r.text(nodes, "body", path, limit=4000),
            "priority": r.choice(
                nodes, "priority", path, MessagePriority.values, default=MessagePriority.ROUTINE
            ),
            "to": r.text(nodes, "to", path, default="room", limit=32),
        }
    if kind == "request":
        sector = r.choice(nodes, "sector", path, Sector.values)
        item = r.choice(nodes, "item", path, list(ITEMS))
        if sector and item and ITEMS[item].sector != sector:
            r.problem(
                nodes["item"],
                f"{path}.item",
                _("%(item)r belongs to sector %(sector)r")
                % {"item": item, "sector": str(ITEMS[item].sector.value)},
            )
        within = 48 * 3600
        if "needed_within" in nodes:
            raw = r.scalar(nodes["needed_within"], f"{path}.needed_within")
            within = parse_duration(raw)
            if within is None:
                r.problem(
                    nodes["needed_within"],
                    f"{path}.needed_within",
                    _('"%(value)s" is not a duration like 48 h') % {"value": _shown(raw)},
                )
        return {
            "sector": sector,
            "item": item,
            "quantity": r.integer(nodes, "quantity", path, low=1, high=2_000_000_000),
            "needed_within_seconds": within,
            "priority": r.choice(nodes, "priority", path, Priority.values, default="normal"),
            "location": r.text(nodes, "location", path, limit=200),
        }
    if kind == "shelter":
        return {
            "name": r.text(nodes, "name", path, limit=200),
            "capacity": r.integer(nodes, "capacity", path, low=1, high=2_000_000_000),
            "population": r.integer(
                nodes, "population", path, low=0, high=2_000_000_000, default=0
            ),
            "location": r.text(nodes, "location", path, limit=200),
        }
    from crisis.models import CrisisStatus

    return {
        "to": r.choice(nodes, "to", path, CrisisStatus.values),
        "reason": r.text(nodes, "reason", path),
    }


def _default_what(kind: str, desk: str, fields: dict) -> str:
    if kind == "cap_alert":
        return _("CAP alert from %(sender)s") % {"sender": fields["sender_name"]}
    if kind == "situation_update":
        return _("%(desk)s posts a situation update") % {"desk": desk}
    if kind == "message":
        return _("%(desk)s sends a hotline message") % {"desk": desk}
    if kind == "request":
        return _("%(desk)s requests %(quantity)s %(item)s") % {
            "desk": desk,
            "quantity": fields["quantity"],
            "item": fields["item"],
        }
    if kind == "shelter":
        return _("%(desk)s reports shelter %(name)s") % {"desk": desk, "name": fields["name"]}
    return _("%(desk)s moves the crisis to %(status)s") % {"desk": desk, "status": fields["to"]}


def _fail(problems: list[Problem]) -> InvalidInput:
    problems = sorted(problems, key=lambda p: p.line or 0)
    first = str(problems[0])
    more = len(problems) - 1
    message = (
        first
        if not more
        else _("%(first)s (and %(n)d more problems)")
        % {
            "first": first,
            "n": more,
        }
    )
    return InvalidInput(
        message,
        code="invalid_scenario",
        details={
            "errors": [
                {"line": p.line, "field": p.field, "message": p.message} for p in problems[:50]
            ]
        },
    )


def _compose(text: str) -> tuple[yaml.SafeLoader, object]:
    try:
        loader = yaml.SafeLoader(text)  # reads the text: a control character fails here
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "malformed"
        raise _fail(
            [Problem(line, "", _("not valid YAML: %(problem)s") % {"problem": problem})]
        ) from None
    except yaml.YAMLError as exc:
        raise _fail(
            [Problem(None, "", _("not valid YAML: %(problem)s") % {"problem": exc})]
        ) from None
    return loader, node


def parse_scenario(source: str | bytes) -> ScenarioSpec:
    """Read and check a scenario file's text (shape and values; no database look-ups).

    Raises InvalidInput ``invalid_scenario`` listing every problem with its line and field.
    """
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError:
            raise _fail([Problem(None, "", _("the file is not UTF-8 text"))]) from None
    if len(source.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise _fail(
            [
                Problem(
                    None,
                    "",
                    _("the file is larger than %(n)d KiB") % {"n": MAX_SOURCE_BYTES // 1024},
                )
            ]
        )
    if "\x00" in source:
        raise _fail([Problem(None, "", _("the NUL character is not allowed"))])
    loader, root = _compose(source)
    try:
        if root is None:
            raise _fail([Problem(1, "", _("the file is empty"))])
        r = _Reader(loader)
        top = r.mapping(root, "", TOP_FIELDS)
        if top is None:
            raise _fail(r.problems)
        name = r.text(top, "name", "", limit=200)
        if "name" in top and not name and not r.problems:
            r.problem(top["name"], "name", _("must not be empty"))
        description = r.text(top, "description", "")
        crisis = _crisis(r, top["crisis"]) if "crisis" in top else None
        injects: list[InjectSpec] = []
        node = top.get("injects")
        if node is not None:
            if not isinstance(node, yaml.SequenceNode):
                r.problem(node, "injects", _("expected a list of injects"))
            elif not node.value:
                r.problem(node, "injects", _("a scenario needs at least one inject"))
            elif len(node.value) > MAX_INJECTS:
                r.problem(node, "injects", _("more than %(n)d injects") % {"n": MAX_INJECTS})
            else:
                lead = crisis.lead_desk if crisis else ""
                for i, item in enumerate(node.value):
                    if not r.visit(item, f"injects[{i}]"):
                        continue
                    spec = read_inject(r, item, f"injects[{i}]", lead_desk=lead)
                    if spec is not None:
                        injects.append(spec)
        if r.problems:
            raise _fail(r.problems)
    finally:
        loader.dispose()
    return ScenarioSpec(
        name=name,
        description=description,
        crisis=crisis,
        injects=tuple(sorted(injects, key=lambda i: (i.at_seconds, i.line))),
    )


class _PlainDumper(yaml.SafeDumper):
    """Never writes anchors: a value repeated in the JSON stays a plain copy."""

    def ignore_aliases(self, data):
        return True


def read_live_inject(data, *, lead_desk: str) -> InjectSpec:
    """An inject given as JSON (added live to a run): same rules, fields named without lines."""
    if not isinstance(data, dict):
        raise _fail([Problem(None, "inject", _("expected an object (at, type, desk, …)"))])
    text = yaml.dump(data, Dumper=_PlainDumper, allow_unicode=True)
    loader, root = _compose(text)
    try:
        r = _Reader(loader)
        spec = read_inject(r, root, "inject", lead_desk=lead_desk)
        if r.problems:
            for p in r.problems:
                p.line = None
            raise _fail(r.problems)
    finally:
        loader.dispose()
    return spec


# --- checks against the directory ------------------------------------------------------------


def check_references(spec: ScenarioSpec, *, lines: bool = True) -> None:
    """The states and desks the scenario names exist (and are active); InvalidInput if not.

    Separate from :func:`parse_scenario` because it reads the database: a file can be
    well-formed yet name a desk this installation does not have.
    """
    from directory.models import Desk, MemberState

    problems: list[Problem] = []
    states = set(
        MemberState.objects.filter(code__in=spec.crisis.affected_states).values_list(
            "code", flat=True
        )
    )
    for i, code in enumerate(spec.crisis.affected_states):
        if code not in states:
            problems.append(
                Problem(
                    None,
                    f"crisis.affected_states[{i}]",
                    _("no member state %(code)s") % {"code": code},
                )
            )
    codes = {spec.crisis.lead_desk} | {i.desk for i in spec.injects}
    codes |= {
        i.fields["to"] for i in spec.injects if i.type == "message" and i.fields["to"] != "room"
    }
    desks = set(Desk.objects.filter(code__in=codes, is_active=True).values_list("code", flat=True))
    if lines and spec.crisis.lead_desk not in desks:
        problems.append(
            Problem(
                None,
                "crisis.lead_desk",
                _("no active desk %(code)s") % {"code": spec.crisis.lead_desk},
            )
        )
    for inject in spec.injects:
        line = inject.line if lines else None
        path = inject.path if lines else "inject"
        if inject.desk not in desks:
            if lines:
                line = inject.field_lines.get("desk", inject.line)
            problems.append(
                Problem(line, f"{path}.desk", _("no active desk %(code)s") % {"code": inject.desk})
            )
        to = inject.fields.get("to") if inject.type == "message" else None
        if to and to != "room" and to not in desks:
            line = inject.field_lines.get("to", inject.line) if lines else None
            problems.append(
                Problem(line, f"{path}.to", _("no active desk %(code)s") % {"code": to})
            )
    if problems:
        raise _fail(problems)


def check_inject_reference(inject: InjectSpec) -> None:
    """The desks a live inject names exist (problems named ``inject.<field>``)."""
    crisis = CrisisSpec(
        category="", title="", severity=1, affected_states=(), lead_desk=inject.desk
    )
    spec = ScenarioSpec(name="", description="", crisis=crisis, injects=(inject,))
    check_references(spec, lines=False)
