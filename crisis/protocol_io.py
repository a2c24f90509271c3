"""A protocol version as a file (YAML or JSON), so protocols can be reviewed like code.

``export_version`` writes one version; ``import_version`` reads such a file into a new
draft (of the protocol with the file's name, created if missing). Export is deterministic
and import keeps every value, so export -> import -> export gives the same bytes. Desks
are named by code. The format (``format: crisis-protocol/1``) is documented in
docs/protocols.md.

Version number and status are not in the file: an imported file is always a new draft.
A bad file is refused with the field at fault, e.g.
``version.levels[2].timeout_minutes: must be a positive whole number``.
"""

from __future__ import annotations

import json

import yaml
from django.db import transaction
from django.http import HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.errors import InvalidInput
from crisis.models import ChecklistItem, CrisisCategory, Protocol, ProtocolVersion
from crisis.services import protocol_rules as rules
from crisis.services import protocols as protocol_services
from directory.models import AgencyType

FORMAT = "crisis-protocol/1"
FORMATS = ("yaml", "json")
MAX_FILE_BYTES = 1_000_000

CONTENT_TYPES = {"yaml": "application/yaml", "json": "application/json"}


class BadProtocolFile(InvalidInput):
    code = "bad_protocol_file"


# --- export ------------------------------------------------------------------------------------
def document_of(version: ProtocolVersion) -> dict:
    """The file's content as plain data (keys in a fixed order)."""
    snap = protocol_services.snapshot_of(version)
    levels = []
    for level in snap["levels"]:
        row = {"order": level["order"], "name": level["name"]}
        seconds = level["timeout_seconds"]
        # Minutes read better in a review; seconds only where minutes would lose precision.
        if seconds % 60 == 0:
            row["timeout_minutes"] = seconds // 60
        else:
            row["timeout_seconds"] = seconds
        row["notify_scopes"] = level["notify_scopes"]
        row["notify_roles"] = level["notify_roles"]
        row["notify_desks"] = level["notify_desk_codes"]
        if level.get("notify_agency_types"):  # older files have no such key: keep them the same
            row["notify_agency_types"] = level["notify_agency_types"]
        row["actions"] = level["actions"]
        levels.append(row)
    return {
        "format": FORMAT,
        "protocol": {
            "name": version.protocol.name,
            "category": version.protocol.category,
            "description": version.protocol.description,
        },
        "version": {
            "notes": version.notes,
            "repeat_last_level": version.repeat_last_level,
            "max_repeats": version.max_repeats,
            "ack_timeout_seconds": version.ack_timeout_seconds,
            "levels": levels,
            "checklist": [
                {
                    "order": item["order"],
                    "party_role": item["party_role"],
                    "title": item["title"],
                    "description": item["description"],
                    "due_after_minutes": item["due_after_minutes"],
                }
                for item in snap["checklist"]
            ],
        },
    }


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, value: str):
    # Multi-line text as a literal block, so a description diffs line by line.
    style = "|" if "\n" in value and value == value.strip(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dumps(document: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.dump(
            document,
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=100,
        )
    raise BadProtocolFile(
        _("Unknown file format %(format)s: use yaml or json.") % {"format": repr(fmt)}
    )


def export_version(version: ProtocolVersion, fmt: str = "yaml") -> str:
    return dumps(document_of(version), fmt)


def export_filename(version: ProtocolVersion, fmt: str = "yaml") -> str:
    return f"{slugify(version.protocol.name)}-v{version.number}.{fmt}"


def export_response(version: ProtocolVersion, fmt: str = "yaml") -> HttpResponse:
    """The version as a file download (admin and API)."""
    response = HttpResponse(
        export_version(version, fmt), content_type=f"{CONTENT_TYPES[fmt]}; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{export_filename(version, fmt)}"'
    return response


# --- parse ---------------------------------------------------------------------------------------
def guess_format(filename: str | None, text: str) -> str:
    name = (filename or "").lower()
    if name.endswith(".json"):
        return "json"
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    return "json" if text.lstrip().startswith("{") else "yaml"


def loads(data: bytes | str, *, fmt: str | None = None, filename: str | None = None) -> dict:
    """Parse file bytes into a document (not yet checked field by field)."""
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            raise BadProtocolFile(
                _("The file is larger than %(kb)s kB.") % {"kb": MAX_FILE_BYTES // 1000}
            )
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadProtocolFile(
                _("The file is not UTF-8 text (byte %(byte)s cannot be read).")
                % {"byte": exc.start}
            ) from exc
    fmt = fmt or guess_format(filename, data)
    if fmt not in FORMATS:
        raise BadProtocolFile(
            _("Unknown file format %(format)s: use yaml or json.") % {"format": repr(fmt)}
        )
    try:
        document = json.loads(data) if fmt == "json" else yaml.safe_load(data)
    except json.JSONDecodeError as exc:
        raise BadProtocolFile(
            # The parser's own words stay in English: no catalogue has them.
            _("The file is not valid JSON: line %(line)s, column %(column)s: %(problem)s.")
            % {"line": exc.lineno, "column": exc.colno, "problem": exc.msg},
            details={"line": exc.lineno, "column": exc.colno},
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if mark:
            said = _(
                "The file is not valid YAML: line %(line)s, column %(column)s: %(problem)s."
            ) % {
                "line": mark.line + 1,
                "column": mark.column + 1,
                "problem": problem,
            }
        else:
            said = _("The file is not valid YAML: %(problem)s.") % {"problem": problem}
        raise BadProtocolFile(
            said,
            details={"line": mark.line + 1 if mark else None},
        ) from exc
    if not isinstance(document, dict):
        raise BadProtocolFile(
            _(
                "The file must hold one mapping with format, protocol and version "
                "(see docs/protocols.md)."
            ),
            details={"field": ""},
        )
    return document


class _Checker:
    """Walks a document, collecting ``path: problem`` for every bad field."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []

    def fail(self, path: str, problem: str):
        self.errors.append((path, problem))

    def mapping(self, data, path: str, *, required: tuple, optional: tuple = ()) -> dict | None:
        if not isinstance(data, dict):
            self.fail(path, _("must be a mapping (key: value pairs)"))
            return None
        for key in required:
            if key not in data:
                self.fail(f"{path}.{key}".lstrip("."), _("is missing"))
        unknown = sorted(set(data) - set(required) - set(optional), key=str)
        for key in unknown:
            allowed = ", ".join((*required, *optional))
            self.fail(
                f"{path}.{key}".lstrip("."),
                _("is not a known field (known: %(allowed)s)") % {"allowed": allowed},
            )
        return data

    def text(self, data: dict, key: str, path: str, *, max_length: int, blank=True) -> str:
        value = data.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.fail(f"{path}.{key}", _("must be text"))
            return ""
        if "\x00" in value:
            self.fail(f"{path}.{key}", _("must not contain a NUL character"))
            return ""
        if not blank and not value.strip():
            self.fail(f"{path}.{key}", _("must not be empty"))
        if max_length and len(value) > max_length:
            self.fail(
                f"{path}.{key}", _("is longer than %(limit)s characters") % {"limit": max_length}
            )
        return value

    def integer(
        self, data: dict, key: str, path: str, *, minimum: int, maximum: int, nullable=False
    ):
        value = data.get(key)
        if value is None and nullable:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            if minimum == 1:
                problem = _("must be a positive whole number, not %(value)s") % {
                    "value": repr(value)
                }
            else:
                problem = _("must be a whole number of at least %(minimum)s, not %(value)s") % {
                    "minimum": minimum,
                    "value": repr(value),
                }
            self.fail(f"{path}.{key}", problem)
            return None
        if value > maximum:
            self.fail(
                f"{path}.{key}",
                _("must be at most %(maximum)s, not %(value)s")
                % {"maximum": maximum, "value": value},
            )
            return None
        return value

    def boolean(self, data: dict, key: str, path: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.fail(
                f"{path}.{key}", _("must be true or false, not %(value)s") % {"value": repr(value)}
            )
            return False
        return value

    def choices(self, data: dict, key: str, path: str, allowed) -> list[str]:
        value = data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{path}.{key}", _("must be a list of names"))
            return []
        for v in value:
            if v not in allowed:
                self.fail(
                    f"{path}.{key}",
                    _("unknown value %(value)s (use: %(allowed)s)")
                    % {"value": repr(v), "allowed": ", ".join(allowed)},
                )
        if len(set(value)) != len(value):
            self.fail(f"{path}.{key}", _("lists a value twice"))
        return value


LEVEL_FIELDS = ("order", "name")
LEVEL_OPTIONAL = (
    "timeout_minutes",
    "timeout_seconds",
    "notify_scopes",
    "notify_roles",
    "notify_desks",
    "notify_agency_types",
    "actions",
)
ITEM_FIELDS = ("order", "title")
ITEM_OPTIONAL = ("party_role", "description", "due_after_minutes")
VERSION_OPTIONAL = ("notes", "repeat_last_level", "max_repeats", "ack_timeout_seconds", "checklist")


def parse_levels(check: _Checker, raw, path: str) -> list[dict]:
    from crisis.models import LevelAction, NotifyScope

    if not isinstance(raw, list):
        check.fail(path, _("must be a list of levels"))
        return []
    levels = []
    for i, data in enumerate(raw):
        here = f"{path}[{i}]"
        if check.mapping(data, here, required=LEVEL_FIELDS, optional=LEVEL_OPTIONAL) is None:
            continue
        if ("timeout_minutes" in data) == ("timeout_seconds" in data):
            check.fail(here, _("give exactly one of timeout_minutes or timeout_seconds"))
            seconds = None
        elif "timeout_minutes" in data:
            minutes = check.integer(
                data, "timeout_minutes", here, minimum=1, maximum=rules.MAX_TIMEOUT_SECONDS // 60
            )
            seconds = minutes * 60 if minutes else None
        else:
            seconds = check.integer(
                data, "timeout_seconds", here, minimum=1, maximum=rules.MAX_TIMEOUT_SECONDS
            )
        desks = data.get("notify_desks", [])
        if not isinstance(desks, list) or not all(
            isinstance(d, str) and "\x00" not in d for d in desks
        ):
            check.fail(f"{here}.notify_desks", _("must be a list of desk codes"))
            desks = []
        levels.append(
            {
                "order": check.integer(data, "order", here, minimum=1, maximum=rules.MAX_ORDER),
                "name": check.text(data, "name", here, max_length=120, blank=False),
                "timeout_seconds": seconds,
                "notify_scopes": check.choices(data, "notify_scopes", here, NotifyScope.values),
                "notify_roles": check.choices(data, "notify_roles", here, rules.NOTIFIABLE_ROLES),
                "notify_desk_codes": desks,
                "notify_agency_types": check.choices(
                    data, "notify_agency_types", here, AgencyType.values
                ),
                "actions": check.choices(data, "actions", here, LevelAction.values),
                "_path": here,
            }
        )
    for level in levels:
        known = [a for a in level["actions"] or [] if a in LevelAction.values]
        for problem in rules.action_problems({**level, "actions": known}):
            check.fail(f"{level['_path']}.actions", problem)
    _duplicates(check, levels, path, "level")
    known = protocol_services.desks_by_code({c for lv in levels for c in lv["notify_desk_codes"]})
    for level in levels:
        for code in level["notify_desk_codes"]:
            if code not in known:
                check.fail(
                    f"{level['_path']}.notify_desks",
                    _("unknown desk code %(code)s") % {"code": repr(code)},
                )
        level["notify_desk_ids"] = sorted(
            known[c].pk for c in level["notify_desk_codes"] if c in known
        )
    return levels


def parse_checklist(check: _Checker, raw, path: str) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        check.fail(path, _("must be a list of tasks"))
        return []
    items = []
    roles = rules.CHECKLIST_ROLES
    for i, data in enumerate(raw):
        here = f"{path}[{i}]"
        if check.mapping(data, here, required=ITEM_FIELDS, optional=ITEM_OPTIONAL) is None:
            continue
        party = data.get("party_role", ChecklistItem.ALL_PARTIES)
        if party not in roles:
            check.fail(
                f"{here}.party_role",
                _("unknown value %(value)s (use: %(allowed)s)")
                % {"value": repr(party), "allowed": ", ".join(roles)},
            )
        due = data.get("due_after_minutes", 60)
        items.append(
            {
                "order": check.integer(data, "order", here, minimum=1, maximum=rules.MAX_ORDER),
                "party_role": party,
                "title": check.text(data, "title", here, max_length=200, blank=False),
                "description": check.text(data, "description", here, max_length=0),
                "due_after_minutes": check.integer(
                    {"due_after_minutes": due},
                    "due_after_minutes",
                    here,
                    minimum=0,
                    maximum=rules.MAX_DUE_AFTER_MINUTES,
                ),
                "_path": here,
            }
        )
    _duplicates(check, items, path, "item")
    return items


def _duplicates(check: _Checker, rows: list[dict], path: str, what: str) -> None:
    seen: dict[int, str] = {}
    for row in rows:
        order = row["order"]
        if order is None:
            continue
        if order in seen:
            check.fail(
                f"{row['_path']}.order",
                (
                    _("%(order)s is used twice (also at %(other)s): each level needs its own order")
                    if what == "level"
                    else _(
                        "%(order)s is used twice (also at %(other)s): each item needs its own order"
                    )
                )
                % {"order": order, "other": seen[order]},
            )
        seen.setdefault(order, row["_path"])


def raise_if_failed(check: _Checker, error: type[InvalidInput] = BadProtocolFile) -> None:
    if check.errors:
        first_path, first = check.errors[0]
        words = {"field": first_path, "problem": first, "more": len(check.errors) - 1}
        if len(check.errors) > 1:
            said = _("%(field)s: %(problem)s (and %(more)s more)") % words
        else:
            said = _("%(field)s: %(problem)s") % words
        raise error(
            said,
            details={
                "field": first_path,
                "errors": [{"field": p, "problem": m} for p, m in check.errors],
            },
        )


def _clean(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows]


def parse_document(document: dict) -> dict:
    """Check a document field by field; return ``{"protocol": {...}, "content": {...}}``."""
    check = _Checker()
    check.mapping(document, "", required=("format", "protocol", "version"))
    if "format" in document and document["format"] != FORMAT:
        check.fail(
            "format",
            _("must be %(expected)s, not %(value)s")
            % {"expected": repr(FORMAT), "value": repr(document["format"])},
        )
    protocol = check.mapping(
        document.get("protocol", {}),
        "protocol",
        required=("name", "category"),
        optional=("description",),
    )
    version = check.mapping(
        document.get("version", {}), "version", required=("levels",), optional=VERSION_OPTIONAL
    )
    meta, content = {}, {}
    if protocol is not None:
        meta = {
            "name": check.text(protocol, "name", "protocol", max_length=200, blank=False).strip(),
            "category": protocol.get("category"),
            "description": check.text(protocol, "description", "protocol", max_length=0),
        }
        if "category" in protocol and protocol["category"] not in CrisisCategory.values:
            check.fail(
                "protocol.category",
                _("unknown category %(value)s (use: %(allowed)s)")
                % {
                    "value": repr(protocol["category"]),
                    "allowed": ", ".join(CrisisCategory.values),
                },
            )
    if version is not None:
        content = {
            "notes": check.text(version, "notes", "version", max_length=0),
            "repeat_last_level": check.boolean(version, "repeat_last_level", "version"),
            "max_repeats": check.integer(
                {"max_repeats": version.get("max_repeats", 0)},
                "max_repeats",
                "version",
                minimum=0,
                maximum=rules.MAX_REPEATS,
            ),
            "ack_timeout_seconds": check.integer(
                version,
                "ack_timeout_seconds",
                "version",
                minimum=1,
                maximum=rules.MAX_TIMEOUT_SECONDS,
                nullable=True,
            ),
            "levels": parse_levels(check, version.get("levels", []), "version.levels"),
            "checklist": parse_checklist(check, version.get("checklist"), "version.checklist"),
        }
    raise_if_failed(check)
    content["levels"] = _clean(content["levels"])
    content["checklist"] = _clean(content["checklist"])
    return {"protocol": meta, "content": content}


def parse_ladder(*, levels=None, checklist=None) -> tuple[list | None, list | None]:
    """Levels and/or checklist in the file's shape (as sent to the API), checked.

    Returns content dicts (``None`` for a part not given); raises ``InvalidInput`` naming
    the field, e.g. ``levels[1].timeout_minutes: must be a positive whole number``.
    """
    check = _Checker()
    parsed_levels = None if levels is None else parse_levels(check, levels, "levels")
    parsed_items = None if checklist is None else parse_checklist(check, checklist, "checklist")
    raise_if_failed(check, InvalidInput)
    return (
        None if parsed_levels is None else _clean(parsed_levels),
        None if parsed_items is None else _clean(parsed_items),
    )


# --- import --------------------------------------------------------------------------------------
def import_version(
    *, by, data: bytes | str, fmt: str | None = None, filename: str | None = None
) -> ProtocolVersion:
    """Read a file into a new draft of the protocol it names (created if missing).

    Nothing is written unless the whole file is good. The protocol's category must match
    (a crisis category is not a draft's to change); its description is taken from the file.
    """
    protocol_services.require_author(by)
    parsed = parse_document(loads(data, fmt=fmt, filename=filename))
    meta, content = parsed["protocol"], parsed["content"]
    with transaction.atomic():
        protocol = Protocol.objects.select_for_update().filter(name=meta["name"]).first()
        if protocol is None:
            _protocol, draft = protocol_services.create_protocol(
                by=by,
                name=meta["name"],
                category=meta["category"],
                description=meta["description"],
                content=content,
                source=filename or "import",
            )
            return draft
        if protocol.category != meta["category"]:
            raise BadProtocolFile(
                _(
                    "protocol.category: %(name)s is a %(category)s protocol; the file says "
                    "%(value)s. Change the category in the admin first, or import under another "
                    "name."
                )
                % {
                    "name": repr(protocol.name),
                    "category": repr(protocol.category),
                    "value": repr(meta["category"]),
                },
                details={"field": "protocol.category"},
            )
        if protocol.description != meta["description"]:
            protocol.description = meta["description"]
            protocol.save(update_fields=["description"])
        return protocol_services.new_draft(
            by=by, protocol=protocol, content=content, source=filename or "import"
        )
