"""Two versions of a protocol side by side: each version as lines people read (the
escalation settings, each level with its timeout, audience and actions, each checklist
task with its due time), matched with :mod:`difflib` and marked changed, added or removed.

The lines come from the version's snapshot (``crisis.services.protocols.snapshot_of``), the
same data a crisis binds to, so the diff shows what a crisis would do differently.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.utils.translation import gettext as _

from crisis.admin.protocol_forms import format_timeout
from crisis.models import ChecklistItem, LevelAction, NotifyScope, ParticipantRole
from crisis.services import protocols as services
from directory.models import AgencyType


def _words(choices, values) -> str:
    labels = dict(choices)
    return ", ".join(str(labels.get(v, v)) for v in values)


def version_lines(version) -> list[str]:
    """The version as readable lines, in a stable order (settings, levels, checklist)."""
    snap = services.snapshot_of(version)
    lines = [
        _("Top level repeats: %(what)s")
        % {
            "what": (_("yes, up to %(n)s times") % {"n": snap["max_repeats"]})
            if snap["repeat_last_level"]
            else _("no")
        },
        _("An acknowledgement times out after: %(after)s")
        % {"after": format_timeout(snap["ack_timeout_seconds"]) or _("never")},
    ]
    roles = [(r, r) for r in ("operator", "supervisor", "coordinator")]
    for level in snap["levels"]:
        told = [
            _words(NotifyScope.choices, level["notify_scopes"]),
            _words(roles, level["notify_roles"]),
            ", ".join(level["notify_desk_codes"]),
            _words(AgencyType.choices, level["notify_agency_types"]),
        ]
        text = _("Level %(order)s “%(name)s”: after %(timeout)s; tells %(told)s") % {
            "order": level["order"],
            "name": level["name"],
            "timeout": format_timeout(level["timeout_seconds"]),
            "told": " · ".join(t for t in told if t) or _("nobody"),
        }
        if level["actions"]:
            text += _("; does: %(actions)s") % {
                "actions": _words(LevelAction.choices, level["actions"])
            }
        lines.append(text)
    parties = [(ChecklistItem.ALL_PARTIES, _("Every party")), *ParticipantRole.choices]
    for item in snap["checklist"]:
        text = _("Task %(order)s (%(who)s): %(title)s") % {
            "order": item["order"],
            "who": _words(parties, [item["party_role"]]),
            "title": item["title"],
        }
        if item["due_after_minutes"]:
            text += _("; due after %(n)s min") % {"n": item["due_after_minutes"]}
        if item["description"]:
            text += f" — {item['description']}"
        lines.append(text)
    return lines


@dataclass(frozen=True)
class Row:
    left: str
    right: str
    change: str  # "same", "changed", "removed", "added"


def side_by_side(left: list[str], right: list[str]) -> list[Row]:
    """Rows pairing ``left`` and ``right`` lines; unmatched lines face an empty cell."""
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [Row(a, b, "same") for a, b in zip(left[i1:i2], right[j1:j2], strict=True)]
        elif tag == "delete":
            rows += [Row(a, "", "removed") for a in left[i1:i2]]
        elif tag == "insert":
            rows += [Row("", b, "added") for b in right[j1:j2]]
        else:  # replace: pair them up, the longer side's rest faces empty cells
            olds, news = left[i1:i2], right[j1:j2]
            for k in range(max(len(olds), len(news))):
                a = olds[k] if k < len(olds) else ""
                b = news[k] if k < len(news) else ""
                rows.append(Row(a, b, "changed" if a and b else ("removed" if a else "added")))
    return rows
