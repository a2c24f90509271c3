"""A typed, read-only view of the protocol a crisis is bound to.

At activation a crisis copies its published protocol version into
``Crisis.protocol_snapshot`` (a JSON dict written by
``crisis.services.protocols.snapshot_of``): the ladder and the checklist by value, so
editing the protocol never changes a running crisis. Everything that reads that dict
reads it through :class:`ProtocolSnapshot` (``ProtocolSnapshot.of(crisis)``), so its
keys and their defaults are spelled once, here. Frozen: changing a bound snapshot is not
something a reader can do by accident.

A crisis bound to no protocol (activated while none was published, or not activated
yet) has an empty snapshot: no levels, no checklist, ``is_bound`` false.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crisis.models import ChecklistItem

if TYPE_CHECKING:
    from crisis.models import Crisis, EscalationLevel


@dataclass(frozen=True)
class LevelSnapshot:
    """One escalation level: whom it tells, how long it waits, what it does on entry."""

    order: int
    name: str
    timeout_seconds: int
    notify_scopes: tuple[str, ...] = ()
    notify_roles: tuple[str, ...] = ()
    notify_desk_ids: tuple[int, ...] = ()
    notify_desk_codes: tuple[str, ...] = ()
    #: Narrow the member states' desks the scopes reach to these agency types (empty: all).
    notify_agency_types: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LevelSnapshot:
        return cls(
            order=data["order"],
            name=data.get("name") or "",
            timeout_seconds=data.get("timeout_seconds") or 0,
            notify_scopes=tuple(data.get("notify_scopes") or ()),
            notify_roles=tuple(data.get("notify_roles") or ()),
            notify_desk_ids=tuple(data.get("notify_desk_ids") or ()),
            notify_desk_codes=tuple(data.get("notify_desk_codes") or ()),
            notify_agency_types=tuple(data.get("notify_agency_types") or ()),
            actions=tuple(data.get("actions") or ()),
        )

    @classmethod
    def of(cls, level: EscalationLevel) -> LevelSnapshot:
        """A level of a protocol version (not yet bound to any crisis), e.g. for a preview."""
        desks = sorted(level.notify_desks.all(), key=lambda d: d.code)
        return cls(
            order=level.order,
            name=level.name,
            timeout_seconds=level.timeout_seconds,
            notify_scopes=tuple(level.notify_scopes),
            notify_roles=tuple(level.notify_roles),
            notify_desk_ids=tuple(sorted(d.pk for d in desks)),
            notify_desk_codes=tuple(d.code for d in desks),
            notify_agency_types=tuple(level.notify_agency_types),
            actions=tuple(level.actions),
        )


@dataclass(frozen=True)
class ChecklistItemSnapshot:
    """One checklist item: a task each participating desk of ``party_role`` gets."""

    order: int
    party_role: str
    title: str
    due_after_minutes: int
    description: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChecklistItemSnapshot:
        return cls(
            order=data["order"],
            party_role=data.get("party_role") or ChecklistItem.ALL_PARTIES,
            title=data.get("title") or "",
            due_after_minutes=data.get("due_after_minutes") or 0,
            description=data.get("description") or "",
        )

    def applies_to(self, participant_role: str) -> bool:
        """Whether a participant in ``participant_role`` gets this task."""
        return self.party_role in (ChecklistItem.ALL_PARTIES, participant_role)


@dataclass(frozen=True)
class ProtocolSnapshot:
    """The protocol version a crisis is bound to, as copied at activation.

    ``levels`` and ``checklist`` are in order.
    """

    protocol_id: int | None = None
    protocol_name: str = ""
    category: str = ""
    version_id: int | None = None
    version_number: int | None = None
    repeat_last_level: bool = False
    max_repeats: int = 0
    #: With an ack timeout, an acknowledged level is told again unless the desk reports
    #: progress within it; None: an acknowledgement holds.
    ack_timeout_seconds: int | None = None
    levels: tuple[LevelSnapshot, ...] = ()
    checklist: tuple[ChecklistItemSnapshot, ...] = ()

    @classmethod
    def of(cls, crisis: Crisis) -> ProtocolSnapshot:
        """The snapshot ``crisis`` is bound to (empty if none)."""
        return cls.from_dict(crisis.protocol_snapshot or {})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProtocolSnapshot:
        """From the dict ``snapshot_of`` writes (or a part of it, e.g. for a preview)."""
        levels = sorted((LevelSnapshot.from_dict(d) for d in data.get("levels") or ()), key=_order)
        checklist = sorted(
            (ChecklistItemSnapshot.from_dict(d) for d in data.get("checklist") or ()), key=_order
        )
        return cls(
            protocol_id=data.get("protocol_id"),
            protocol_name=data.get("protocol_name") or "",
            category=data.get("category") or "",
            version_id=data.get("version_id"),
            version_number=data.get("version_number"),
            repeat_last_level=bool(data.get("repeat_last_level")),
            max_repeats=int(data.get("max_repeats") or 0),
            ack_timeout_seconds=int(data.get("ack_timeout_seconds") or 0) or None,
            levels=tuple(levels),
            checklist=tuple(checklist),
        )

    @property
    def is_bound(self) -> bool:
        """Whether a protocol version was bound (a crisis may be active without one)."""
        return self.version_id is not None or bool(self.levels)

    def level(self, order: int) -> LevelSnapshot | None:
        """The level numbered ``order``, or None past the top (or with no ladder)."""
        return next((lv for lv in self.levels if lv.order == order), None)

    @property
    def top_repeats(self) -> int:
        """How many times the top level is entered again before the crisis is unanswered."""
        return self.max_repeats if self.repeat_last_level else 0


def _order(item: LevelSnapshot | ChecklistItemSnapshot) -> int:
    return item.order
