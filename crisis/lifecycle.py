"""The crisis lifecycle as rules: which statuses there are in which order, who may move a
crisis along, and how a desk stands to a crisis.

Pure: nothing here writes to the database (``parties_of`` reads a crisis's participants
and affected states). The services (``crisis.services``) apply these rules inside their
transactions; the selectors and the console read them to show what is possible. No other
module defines a lifecycle rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.errors import PermissionDenied
from crisis.models import Crisis, CrisisStatus, EscalationState, ParticipantRole
from directory.access import Access
from directory.models import Desk, DeskKind, Role

S = CrisisStatus

# --- statuses ---

#: Statuses in which the crisis is still being worked (tasks, acknowledgements, severity).
OPEN_STATUSES = (S.REPORTED, S.ACTIVE, S.DE_ESCALATING)
#: Statuses after activation and before resolution: the escalation runs and checklist
#: tasks exist and can be ticked.
ACTIVE_STATUSES = (S.ACTIVE, S.DE_ESCALATING)
#: Statuses in which the escalation has nothing left to do.
FINISHED_STATUSES = (S.RESOLVED, S.CLOSED)

#: ``CrisisTask.party_role`` of follow-up tasks: the actions of a published after-action
#: review (the ``review`` app). They come after the crisis, so they stay open once it ends.
FOLLOW_UP_ROLE = "review"
#: After a re-escalation the ladder starts again unless a level is still waiting.
RESTARTABLE = (EscalationState.ACKNOWLEDGED, EscalationState.UNANSWERED, EscalationState.STOPPED)
#: Escalation states in which a desk can acknowledge the current level.
ACKNOWLEDGEABLE = (
    EscalationState.ESCALATING,
    EscalationState.ACKNOWLEDGED,
    EscalationState.UNANSWERED,
)


def is_open(crisis: Crisis) -> bool:
    return crisis.status in OPEN_STATUSES


# --- parties: how a desk stands to a crisis (a desk can be several at once) ---

LEAD = "lead"  # the crisis's lead desk
CENTRE = "centre"  # the regional coordination centre
AFFECTED = "affected"  # a desk of an affected state, or a participant in the affected role
PARTICIPANT = "participant"  # any participating desk (supporting, observer, ...)


def parties_of(desk: Desk, crisis: Crisis) -> set[str]:
    """How ``desk`` stands to ``crisis`` (lead, centre, affected, participant)."""
    parties = set()
    if desk.pk == crisis.lead_desk_id:
        parties.add(LEAD)
    if desk.kind == DeskKind.REGIONAL:
        parties.add(CENTRE)
    # A page's crisis comes with its participants and affected states prefetched
    # (``crisis.console.selectors.crisis_for``): read those rather than ask again.
    prefetched = getattr(crisis, "_prefetched_objects_cache", {})
    if "participants" in prefetched:
        participation = next(
            (p.role for p in crisis.participants.all() if p.desk_id == desk.pk), None
        )
    else:
        participation = crisis.participants.filter(desk=desk).values_list("role", flat=True).first()
    if participation is not None:
        parties.add(PARTICIPANT)
    if "affected_states" in prefetched:
        affected = any(s.pk == desk.state_id for s in crisis.affected_states.all())
    else:
        affected = bool(desk.state_id) and (
            crisis.affected_states.filter(pk=desk.state_id).exists()
        )
    if participation == ParticipantRole.AFFECTED or (desk.state_id and affected):
        parties.add(AFFECTED)
    return parties


def require_party(desk: Desk, crisis: Crisis) -> set[str]:
    """How ``desk`` stands to ``crisis``; PermissionDenied (``not_a_party``) if not at all.

    Every action on a crisis is taken for a desk that is party to it; the caller has
    already checked that the person acts for ``desk`` and may see ``crisis``.
    """
    parties = parties_of(desk, crisis)
    if not parties:
        raise PermissionDenied(
            _("Desk %(desk_code)s is not a party to crisis %(crisis_reference)s.")
            % {"desk_code": desk.code, "crisis_reference": crisis.reference},
            code="not_a_party",
        )
    return parties


def may(access: Access, desk: Desk, parties: set[str], allowed: dict[str, frozenset[str]]) -> bool:
    """Whether the caller's role on ``desk``, standing as ``parties``, is in ``allowed``."""
    role = access.role_on(desk)
    return any(role in allowed.get(party, ()) for party in parties)


def describe(allowed: dict[str, frozenset[str]]) -> str:
    """``allowed`` in words, for a refusal: "supervisor of the lead desk; coordinator of …"."""
    names = {LEAD: "the lead desk", CENTRE: "the regional centre", AFFECTED: "an affected desk"}
    return "; ".join(
        f"{' or '.join(sorted(roles))} of {names.get(party, party)}"
        for party, roles in allowed.items()
    )


# --- transitions: who may do what ---


@dataclass(frozen=True)
class Transition:
    verb: str
    source: str
    target: str
    allowed: dict[str, frozenset[str]]  # party -> desk roles that may do it
    needs_reason: bool = False

    @property
    def label(self) -> str:
        return str(TRANSITION_LABELS.get(self.verb, self.verb.replace("_", "-").capitalize()))


# What the console's buttons say (translated when shown).
TRANSITION_LABELS = {
    "activate": pgettext_lazy("crisis transition", "Activate"),
    "dismiss": pgettext_lazy("crisis transition", "Dismiss"),
    "de_escalate": pgettext_lazy("crisis transition", "De-escalate"),
    "re_escalate": pgettext_lazy("crisis transition", "Re-escalate"),
    "resolve": pgettext_lazy("crisis transition", "Resolve"),
    "close": pgettext_lazy("crisis transition", "Close"),
}

#: What the console says to whoever may not take a step the crisis waits for, by verb.
#: Steps that are the way back (dismiss, re-escalate) wait for nobody and say nothing.
WAITING_WORDS = {
    "activate": pgettext_lazy(
        "crisis transition",
        "Waiting for the lead desk's supervisor (or a regional coordinator) to activate.",
    ),
    "de_escalate": pgettext_lazy(
        "crisis transition",
        "Waiting for the lead desk's supervisor (or a regional coordinator) to de-escalate.",
    ),
    "resolve": pgettext_lazy(
        "crisis transition",
        "Waiting for the lead desk's supervisor (or a regional coordinator) to resolve.",
    ),
    "close": pgettext_lazy(
        "crisis transition",
        "Waiting for the lead desk's supervisor (or a regional coordinator) to close.",
    ),
}


_SUPERVISOR = frozenset({Role.SUPERVISOR})
_COORDINATOR = frozenset({Role.COORDINATOR})
_ON_DUTY = frozenset({Role.OPERATOR, Role.SUPERVISOR})

#: The lifecycle, in one place: the only transitions there are, and who may make them.
TRANSITIONS: tuple[Transition, ...] = (
    Transition("activate", S.REPORTED, S.ACTIVE, {LEAD: _SUPERVISOR, CENTRE: _COORDINATOR}),
    Transition("dismiss", S.REPORTED, S.CLOSED, {LEAD: _SUPERVISOR, CENTRE: _COORDINATOR}, True),
    Transition("de_escalate", S.ACTIVE, S.DE_ESCALATING, {LEAD: _SUPERVISOR, CENTRE: _COORDINATOR}),
    Transition(
        "re_escalate",
        S.DE_ESCALATING,
        S.ACTIVE,
        {LEAD: _ON_DUTY, AFFECTED: _SUPERVISOR, CENTRE: _COORDINATOR},
        True,
    ),
    Transition("resolve", S.DE_ESCALATING, S.RESOLVED, {LEAD: _SUPERVISOR, CENTRE: _COORDINATOR}),
    Transition("close", S.RESOLVED, S.CLOSED, {LEAD: _SUPERVISOR, CENTRE: _COORDINATOR}),
)

#: Who may change a crisis's severity, participants (lead desk on duty, or the centre).
MANAGERS: dict[str, frozenset[str]] = {LEAD: _ON_DUTY, CENTRE: _COORDINATOR}


def transition_for(source: str, target: str) -> Transition | None:
    """The transition from ``source`` to ``target``, or None if the lifecycle has none."""
    return next((t for t in TRANSITIONS if t.source == source and t.target == target), None)


def transitions_from(status: str) -> list[Transition]:
    """The transitions out of ``status`` (empty for a final status)."""
    return [t for t in TRANSITIONS if t.source == status]
