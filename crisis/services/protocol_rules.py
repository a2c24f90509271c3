"""The rules of a good ladder and the ladder as a timeline: pure functions on plain data.

The rules work on version *content* as :func:`crisis.services.protocols.snapshot_of`
returns it (levels and checklist as dicts, possibly incomplete or wrong: that is what they
check), so the admin forms, file imports, the API and publishing check the same rules and
say the same words. The preview works on a valid ladder, typed
(:class:`crisis.snapshot.ProtocolSnapshot`).
"""

from __future__ import annotations

from collections import Counter

from django.utils.translation import gettext as _

from crisis.models import ChecklistItem, LevelAction, NotifyScope, ParticipantRole
from crisis.services.level_actions import available_actions, has_handler
from crisis.snapshot import LevelSnapshot, ProtocolSnapshot
from directory.models import AgencyType, Role

#: Bounds that keep values sensible (and inside their database columns).
MAX_TIMEOUT_SECONDS = 30 * 24 * 3600
MAX_ORDER = 999
MAX_REPEATS = 100
MAX_DUE_AFTER_MINUTES = 366 * 24 * 60

#: Scopes that reach member states' desks (the ones agency types narrow).
STATE_SCOPES = (NotifyScope.AFFECTED, NotifyScope.PARTICIPANTS, NotifyScope.ALL_STATES)

#: Roles a level may name: the people on a desk who can be told (auditors are never paged).
NOTIFIABLE_ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.COORDINATOR)
CHECKLIST_ROLES = (ChecklistItem.ALL_PARTIES, *ParticipantRole.values)


# --- validation: one set of rules and messages for the admin, imports and publishing -----
def _label(level: dict) -> str:
    name = (level.get("name") or "").strip()
    if name:
        return _("Level %(order)s (%(name)s)") % {"order": level.get("order"), "name": name}
    return _("Level %(order)s") % {"order": level.get("order")}


def level_problems(level: dict, *, structural_only: bool = False) -> list[str]:
    """What is wrong with one level (a dict as in :func:`snapshot_of`), in words to fix it.

    ``structural_only``: just what the database refuses (a draft may be incomplete, such as
    a level that notifies nobody yet, but never broken).
    """
    problems = []
    label = _label(level)
    if not (level.get("name") or "").strip():
        problems.append(
            _("%(level)s has no name: say who it reaches, e.g. 'Affected operators'.")
            % {"level": label}
        )
    timeout = level.get("timeout_seconds")
    if isinstance(timeout, int) and timeout > MAX_TIMEOUT_SECONDS:
        problems.append(_("%(level)s: the timeout must be at most 30 days.") % {"level": label})
    elif not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        problems.append(
            _(
                "%(level)s: the timeout must be positive: how long this level has to "
                "acknowledge before the next level is told (e.g. 15m or 900s)."
            )
            % {"level": label}
        )
    scopes = list(level.get("notify_scopes") or [])
    roles = list(level.get("notify_roles") or [])
    for value in scopes:
        if value not in NotifyScope.values:
            problems.append(
                _("%(level)s: unknown scope %(value)s; use %(allowed)s.")
                % {"level": label, "value": repr(value), "allowed": ", ".join(NotifyScope.values)}
            )
    for value in roles:
        if value not in NOTIFIABLE_ROLES:
            problems.append(
                _("%(level)s: unknown role %(value)s; use %(allowed)s.")
                % {"level": label, "value": repr(value), "allowed": ", ".join(NOTIFIABLE_ROLES)}
            )
    agency_types = level.get("notify_agency_types") or []
    if not isinstance(agency_types, list | tuple):
        problems.append(
            _("%(level)s: agency types must be a list, e.g. ['cert'].") % {"level": label}
        )
        agency_types = []
    for value in agency_types:
        if value not in AgencyType.values:
            problems.append(
                _("%(level)s: unknown agency type %(value)s; use %(allowed)s.")
                % {"level": label, "value": repr(value), "allowed": ", ".join(AgencyType.values)}
            )
    problems += action_problems(level)
    if structural_only:
        return problems
    return problems + audience_problems(level)


def action_problems(level: dict) -> list[str]:
    """Actions that are unknown, or that nothing installed carries out (never offered)."""
    problems = []
    label = _label(level)
    available = [value for value, _name in available_actions()]
    for value in level.get("actions") or []:
        if value not in LevelAction.values:
            problems.append(
                _("%(level)s: unknown action %(value)s; use %(allowed)s.")
                % {"level": label, "value": repr(value), "allowed": ", ".join(available)}
            )
        elif not has_handler(value):
            words = {"level": label, "action": LevelAction(value).label, "value": value}
            if available:
                problem = _(
                    "%(level)s: the action '%(action)s' (%(value)s) is not carried out by "
                    "anything installed on this server; remove it or use %(allowed)s."
                ) % {**words, "allowed": ", ".join(available)}
            else:
                problem = (
                    _(
                        "%(level)s: the action '%(action)s' (%(value)s) is not carried out by "
                        "anything installed on this server; remove it."
                    )
                    % words
                )
            problems.append(problem)
    return problems


def audience_problems(level: dict) -> list[str]:
    """Whether a level reaches somebody: a scope or a desk, and people there in its roles."""
    problems = []
    label = _label(level)
    scopes = list(level.get("notify_scopes") or [])
    roles = list(level.get("notify_roles") or [])
    desks = list(level.get("notify_desk_ids") or level.get("notify_desks") or [])
    agency_types = list(level.get("notify_agency_types") or [])
    if agency_types and not set(scopes) & set(STATE_SCOPES):
        problems.append(
            _(
                "%(level)s: agency types choose among the member states' desks, but no scope "
                "reaches them: add the affected states, the participants or every member state."
            )
            % {"level": label}
        )
    if not scopes and not desks:
        problems.append(
            _(
                "%(level)s notifies nobody: choose whose desks are told (e.g. the affected "
                "states, the regional centre) or pick specific desks."
            )
            % {"level": label}
        )
    elif not desks and roles:
        only_centre = set(scopes) == {NotifyScope.REGIONAL}
        if only_centre and Role.COORDINATOR not in roles:
            problems.append(
                _(
                    "%(level)s notifies nobody: the regional centre is staffed by coordinators; "
                    "add the 'coordinator' role or another scope."
                )
                % {"level": label}
            )
        elif NotifyScope.REGIONAL not in scopes and set(roles) == {Role.COORDINATOR}:
            problems.append(
                _(
                    "%(level)s notifies nobody: coordinators work only at the regional centre; "
                    "add the 'regional' scope, or operators/supervisors for national desks."
                )
                % {"level": label}
            )
    return problems


def _order_words(what: str) -> tuple[str, str, str]:
    """The three things :func:`order_problems` says about ``what`` ("level", "checklist
    item" or "row"): two rows in one place, gaps, gaps with the missing numbers."""
    if what == "row":
        return (
            _("%(count)s rows have order %(order)s: give each row its own place (%(example)s)."),
            _("Row orders must run 1, 2, 3 … without gaps: found %(found)s."),
            _("Row orders must run 1, 2, 3 … without gaps: found %(found)s (missing %(missing)s)."),
        )
    if what == "level":
        return (
            _(
                "%(count)s levels have order %(order)s: give each level its own place "
                "(%(example)s)."
            ),
            _("Level orders must run 1, 2, 3 … without gaps: found %(found)s."),
            _(
                "Level orders must run 1, 2, 3 … without gaps: found %(found)s "
                "(missing %(missing)s)."
            ),
        )
    return (
        _(
            "%(count)s checklist items have order %(order)s: give each checklist item its own "
            "place (%(example)s)."
        ),
        _("Checklist item orders must run 1, 2, 3 … without gaps: found %(found)s."),
        _(
            "Checklist item orders must run 1, 2, 3 … without gaps: found %(found)s "
            "(missing %(missing)s)."
        ),
    )


def order_problems(rows: list[dict], *, what: str, example: str, gaps: bool = True) -> list[str]:
    """``what``: "level", "checklist item" or "row"."""
    twice, with_gaps, with_missing = _order_words(what)
    orders = [row.get("order") for row in rows]
    problems = []
    for order, count in sorted(Counter(orders).items(), key=lambda kv: str(kv[0])):
        if count > 1:
            problems.append(twice % {"count": count, "order": order, "example": example})
    numbers = sorted(o for o in set(orders) if isinstance(o, int))
    if gaps and numbers and numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        found = ", ".join(map(str, numbers))
        if missing:
            problems.append(
                with_missing % {"found": found, "missing": ", ".join(map(str, missing))}
            )
        else:
            problems.append(with_gaps % {"found": found})
    return problems


def ladder_problems(levels: list[dict]) -> list[str]:
    if not levels:
        return [
            _(
                "The ladder is empty: add at least one escalation level (e.g. level 1 = the "
                "affected states' operators, 15 minutes)."
            )
        ]
    problems = order_problems(levels, what="level", example="1, 2, 3 …")
    for level in sorted(levels, key=lambda lv: (str(type(lv.get("order"))), lv.get("order"))):
        problems += level_problems(level)
    return problems


def content_problems(content: dict) -> list[str]:
    """Every reason why version content (as in :func:`snapshot_of`) cannot be published."""
    problems = ladder_problems(list(content.get("levels") or []))
    if content.get("repeat_last_level") and not content.get("max_repeats"):
        problems.append(
            _(
                "The top level is set to repeat but 'max repeats' is 0: say how many times it "
                "repeats (e.g. 3), or switch repeating off."
            )
        )
    ack = content.get("ack_timeout_seconds")
    if ack is not None and (not isinstance(ack, int) or ack <= 0):
        problems.append(
            _("The acknowledgement timeout must be positive, or empty for 'never times out'.")
        )
    checklist = list(content.get("checklist") or [])
    problems += order_problems(checklist, what="checklist item", example="1, 2, 3 …")
    for item in checklist:
        if not (item.get("title") or "").strip():
            problems.append(
                _("Checklist item %(order)s has no title: say what to do.")
                % {"order": item.get("order")}
            )
        if item.get("party_role") not in CHECKLIST_ROLES:
            problems.append(
                _("Checklist item %(order)s: unknown party %(value)s; use %(allowed)s.")
                % {
                    "order": item.get("order"),
                    "value": repr(item.get("party_role")),
                    "allowed": ", ".join(CHECKLIST_ROLES),
                }
            )
    return problems


def structural_problems(levels: list[dict], checklist: list[dict]) -> list[str]:
    """What the database itself would refuse (duplicate orders, bad timeouts, unknown values)."""
    problems = order_problems(levels, what="level", example="1, 2, 3 …", gaps=False)
    problems += order_problems(checklist, what="checklist item", example="1, 2, 3 …", gaps=False)
    for level in levels:
        problems += level_problems(level, structural_only=True)
    for item in checklist:
        if item.get("party_role", ChecklistItem.ALL_PARTIES) not in CHECKLIST_ROLES:
            problems.append(
                _("Checklist item %(order)s: unknown party %(value)s; use %(allowed)s.")
                % {
                    "order": item.get("order"),
                    "value": repr(item.get("party_role")),
                    "allowed": ", ".join(CHECKLIST_ROLES),
                }
            )
    return problems


# --- preview: who is told at what minute ---------------------------------------------------
def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    parts = ([f"{hours} h"] if hours else []) + ([f"{minutes} min"] if minutes else [])
    return " ".join(parts) + (f" {rest} s" if rest else "")


def _people(role: str) -> str:
    """A role's people, plural, as the audience sentence says them."""
    words = {
        Role.OPERATOR: _("operators"),
        Role.SUPERVISOR: _("supervisors"),
        Role.COORDINATOR: _("coordinators"),
        Role.AUDITOR: _("auditors"),
    }
    return words.get(role, role)


def describe_audience(level: LevelSnapshot) -> str:
    """Who a level tells, in words: "operators at desks of the affected states" (in the
    active language)."""
    roles = [_people(r) for r in level.notify_roles]
    scopes = [str(NotifyScope(s).label).lower() for s in level.notify_scopes]
    text = ""
    if scopes:
        text = _("%(who)s at %(where)s") % {
            "who": ", ".join(roles) if roles else _("everyone on duty"),
            "where": "; ".join(scopes),
        }
    if level.notify_agency_types and text:
        kinds = [str(AgencyType(t).label).split(" (")[0] for t in level.notify_agency_types]
        if len(kinds) > 1:
            kinds = [
                _("%(some)s and %(last)s") % {"some": ", ".join(kinds[:-1]), "last": kinds[-1]}
            ]
        text = _("%(audience)s (only %(kinds)s desks of the member states)") % {
            "audience": text,
            "kinds": kinds[0],
        }
    desks = level.notify_desk_codes
    if desks and text:
        text = _("%(audience)s; and desks %(desks)s") % {
            "audience": text,
            "desks": ", ".join(desks),
        }
    elif desks:
        text = _("desks %(desks)s") % {"desks": ", ".join(desks)}
    return text or _("nobody")


def ladder_preview(snapshot: ProtocolSnapshot) -> list[dict]:
    """The ladder as a timeline from the moment the crisis becomes active.

    Rows ``{"at_seconds", "at", "event", "level", "name", "who", "actions", "deadline"}``:
    each level entered (if nobody acknowledged the one before), each repeat of the top level,
    and the moment the ladder runs out unanswered.
    """
    rows, at = [], 0
    levels = sorted(snapshot.levels, key=lambda lv: lv.order)
    for level in levels:
        rows.append(_row(at, "notify", level))
        at += level.timeout_seconds
    if not levels:
        return rows
    top = levels[-1]
    for repeat in range(1, snapshot.top_repeats + 1):
        row = _row(at, "repeat", top)
        row["name"] = _("%(name)s (repeat %(n)s)") % {"name": top.name, "n": repeat}
        rows.append(row)
        at += top.timeout_seconds
    rows.append(
        {
            "at_seconds": at,
            "at": f"T+{_duration(at)}",
            "event": "unanswered",
            "level": None,
            "name": _("Nobody acknowledged: the crisis is marked unanswered"),
            "who": "",
            "actions": [],
            "deadline": "",
        }
    )
    return rows


def _row(at: int, event: str, level: LevelSnapshot) -> dict:
    timeout = level.timeout_seconds
    return {
        "at_seconds": at,
        "at": f"T+{_duration(at)}" if at else "T+0",
        "event": event,
        "level": level.order,
        "name": level.name,
        "who": describe_audience(level),
        "actions": [str(LevelAction(a).label) for a in level.actions],
        "deadline": f"T+{_duration(at + timeout)}" if timeout else "",
    }
