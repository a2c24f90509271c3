"""Escalation of a crisis along its protocol's ladder, on the deadline engine.

The ladder is the crisis's ``protocol_snapshot`` (copied at activation from a published,
immutable version by ``crisis.services.protocols.snapshot_of``: editing the protocol
never changes a running escalation), read as a ``crisis.snapshot.ProtocolSnapshot``. Each crisis
has at most one pending deadline of kind ``crisis.escalation`` (subject
``crisis:<id>:escalation``); its payload says which level, round and phase it guards.

- Entering a level notifies its recipient desks (a :class:`Notification` row each, and a
  push to each desk's channel-layer group after commit; a desk told joins the crisis as
  an observer, so it sees it), arms the level's deadline, and records ``level_entered``.
- An acknowledgement by a recipient desk cancels the deadline. With an ack timeout in
  the protocol, it arms an ``ack_timeout`` deadline instead: if the desk reports no
  progress within it, the level is entered again (PagerDuty's ack timeout).
- Expiry moves to the next level; at the top, the level repeats (up to the protocol's
  ``max_repeats``, if ``repeat_last_level``) or the crisis is marked ``unanswered``.
- While acknowledged with an ack timeout, the desk is reminded half-way through it.
- A supervisor can stop the escalation with a reason.

Lock order is crisis row, then deadline row, then the timeline stream, for every action.
The expiry handler runs holding the deadline row; it takes the crisis row with NOWAIT and,
if an action holds it, backs off (the deadline stays pending and is fired a moment
later), so an acknowledgement racing the expiry never deadlocks: exactly one of them wins.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput, PermissionDenied, TransitionNotAllowed
from core.events import desk_group, publish_many_on_commit, publish_on_commit
from crisis.lifecycle import FINISHED_STATUSES
from crisis.models import (
    Crisis,
    CrisisParticipant,
    EscalationAck,
    EscalationState,
    Notification,
    ParticipantRole,
)
from crisis.services import timeline
from crisis.services.level_actions import run_level_actions
from crisis.services.steps import begin_crisis_action
from crisis.snapshot import LevelSnapshot, ProtocolSnapshot
from deadlines.models import Deadline
from deadlines.services import (
    DeadlineBusy,
    DeadlineSpec,
    cancel_deadlines,
    register_handler,
    schedule_deadline,
    schedule_deadlines_bulk,
)
from directory.models import Desk, DeskKind, Role
from paging.models import Page, PageState, Urgency
from paging.services import page_desk, page_desks, resolve_pages

DEADLINE_KIND = "crisis.escalation"
#: While acknowledged with an ack timeout, the desk is reminded half-way through it.
REMINDER_KIND = "crisis.escalation.reminder"

#: Roles that may stop an escalation.
STOPPING_ROLES = frozenset({Role.SUPERVISOR, Role.COORDINATOR})


def deadline_subject(crisis: Crisis | int) -> str:
    crisis_id = crisis if isinstance(crisis, int) else crisis.pk
    return f"crisis:{crisis_id}:escalation"


# --- the ladder ----------------------------------------------------------------------------


def recipient_desks(crisis: Crisis, level: LevelSnapshot) -> list[Desk]:
    """The active desks a level notifies: its scopes resolved for this crisis, plus the
    desks it names.

    The level's agency types (if any) narrow the member states' desks its scopes reach
    (a cyber level: CERT desks only); the regional centre and desks named one by one are
    told whatever their agency type.
    """
    scopes = set(level.notify_scopes)
    named = set(level.notify_desk_ids)
    if not scopes and not named:
        return []
    national = Q()
    if "affected" in scopes:
        national |= Q(kind=DeskKind.NATIONAL, state__crises=crisis)
    if "participants" in scopes:
        national |= Q(participations__crisis=crisis, kind=DeskKind.NATIONAL)
    if "all_states" in scopes:
        national |= Q(kind=DeskKind.NATIONAL)
    if national and level.notify_agency_types:
        national &= Q(agency_type__in=level.notify_agency_types)
    query = Q(pk__in=named) | national
    if "participants" in scopes:
        query |= Q(participations__crisis=crisis, kind=DeskKind.REGIONAL)
    if "regional" in scopes:
        query |= Q(kind=DeskKind.REGIONAL)
    return list(Desk.objects.filter(query, is_active=True).distinct().order_by("code"))


def required_desk_ids(crisis: Crisis) -> set[int]:
    """Desks whose acknowledgement counts: every desk notified by this escalation so far."""
    return set(
        Notification.objects.filter(crisis=crisis, kind="escalation.level").values_list(
            "desk_id", flat=True
        )
    )


# --- entering a level ---------------------------------------------------------------------


def _event(crisis: Crisis, kind: str, **extra) -> dict:
    return {
        "type": kind,
        "crisis": {"id": crisis.pk, "reference": crisis.reference, "title": crisis.title},
        **extra,
    }


#: What entering a level changes on the crisis row (the single and the batch path).
LEVEL_FIELDS = [
    "current_level",
    "level_repeats",
    "level_entered_at",
    "level_deadline_at",
    "escalation_state",
    "updated_at",
]


def _level_notice(crisis: Crisis, level, round_: int, deadline_at) -> tuple[str, dict]:
    """The title and payload of a level's notifications (one place for both paths)."""
    title = (
        f"{crisis.reference}: escalation level {level.order} ({level.name}) — please acknowledge"
    )
    payload = {
        "level": level.order,
        "name": level.name,
        "round": round_,
        "deadline_at": deadline_at.isoformat(),
        "actions": list(level.actions),
    }
    return title, payload


def _level_notifications(crisis, level, round_, desks, title, payload) -> list[Notification]:
    return [
        Notification(
            desk=desk,
            crisis=crisis,
            kind="escalation.level",
            title=title,
            payload=payload,
            roles=list(level.notify_roles),
            link_path=f"/crises/{crisis.pk}/",
            page_subject=level_page_subject(crisis, level.order, round_),
        )
        for desk in desks
    ]


def _enter_level(crisis: Crisis, order: int, *, round_: int, by=None, reason: str) -> None:
    """Enter level ``order`` (attempt ``round_``): notify, arm, record. Holds the crisis lock."""
    level = ProtocolSnapshot.of(crisis).level(order)
    now = timezone.now()
    deadline_at = now + timedelta(seconds=level.timeout_seconds)
    crisis.current_level = order
    crisis.level_repeats = round_
    crisis.level_entered_at = now
    crisis.level_deadline_at = deadline_at
    crisis.escalation_state = EscalationState.ESCALATING
    crisis.save(update_fields=LEVEL_FIELDS)
    if reason == "ack_timed_out":  # the only way in while a reminder may be armed
        cancel_deadlines(kind=REMINDER_KIND, subject_key=deadline_subject(crisis))
    desks = recipient_desks(crisis, level)
    title, payload = _level_notice(crisis, level, round_, deadline_at)
    # A desk that is told takes part (as an observer unless it already has a role), so
    # it sees the crisis and can acknowledge it.
    CrisisParticipant.objects.bulk_create(
        [CrisisParticipant(crisis=crisis, desk=d, role=ParticipantRole.OBSERVER) for d in desks],
        ignore_conflicts=True,
    )
    Notification.objects.bulk_create(
        _level_notifications(crisis, level, round_, desks, title, payload)
    )
    schedule_deadline(
        kind=DEADLINE_KIND,
        subject_key=deadline_subject(crisis),
        due_at=deadline_at,
        payload={"crisis_id": crisis.pk, "phase": "level", "level": order, "round": round_},
    )
    _page_level(crisis, desks, level, round_=round_, deadline_at=deadline_at)
    actions_done = run_level_actions(crisis=crisis, level=level)
    timeline.record(
        crisis=crisis,
        kind="level_entered",
        actor=by,
        payload={
            **payload,
            "reason": reason,
            "desks": [d.code for d in desks],
            "actions_done": actions_done,
        },
    )
    if desks:
        publish_on_commit(
            [desk_group(d.pk) for d in desks], _event(crisis, "escalation.level", **payload)
        )


def start_escalation(*, crisis: Crisis, by=None) -> None:
    """Enter level 1 of the crisis's bound ladder (on activation and re-escalation).
    Called holding the crisis row lock. A ladder without levels leaves it not started."""
    if ProtocolSnapshot.of(crisis).level(1) is None:
        return
    # A re-escalation starts the ladder again: whatever was armed goes, and the round
    # moves past any earlier acknowledgement of level 1 so that desks can acknowledge anew.
    cancel_deadlines(subject_key=deadline_subject(crisis))
    acked = EscalationAck.objects.filter(crisis=crisis, level=1).order_by("-round").first()
    round_ = acked.round + 1 if acked else 0
    reason = "activated" if crisis.escalation_state == EscalationState.NOT_STARTED else "restarted"
    _enter_level(crisis, 1, round_=round_, by=by, reason=reason)


# --- paging the people on duty (paging app) -----------------------------------------------------

#: Pages of a crisis level have this kind; an ack by link acknowledges the level
#: (the handler is registered in ``crisis.apps``).
PAGE_KIND = "crisis.level"


def page_subject_prefix(crisis: Crisis) -> str:
    return f"crisis:{crisis.pk}:level:"


def level_page_subject(crisis: Crisis, order: int, round_: int) -> str:
    """One page per desk per level and round (level actions page under it too)."""
    return f"{page_subject_prefix(crisis)}{order}:round:{round_}"


def _page_request(crisis, desk, level: LevelSnapshot, *, round_: int, deadline_at) -> dict:
    """``page_desk``'s arguments for paging ``desk`` about ``level`` (both paths)."""
    local = deadline_at.astimezone(desk.zone)
    return {
        "desk": desk,
        "urgency": Urgency.ESCALATION,
        "kind": PAGE_KIND,
        "subject_key": level_page_subject(crisis, level.order, round_),
        "title": f"{crisis.reference} {crisis.title}: escalation level {level.order} "
        f"({level.name}) — please acknowledge",
        "body": (
            f"Crisis {crisis.reference}: {crisis.title}\n"
            f"Severity {crisis.severity}, {crisis.get_category_display().lower()}.\n"
            f"Escalation level {level.order} ({level.name}) notifies {desk.name} "
            f"({desk.code}).\n"
            f"Acknowledge before {local:%Y-%m-%d %H:%M} {desk.time_zone} "
            f"({deadline_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC), or the next level is "
            "notified."
        ),
        "link_path": f"/crises/{crisis.pk}/",
        "payload": {"crisis_id": crisis.pk, "level": level.order, "round": round_},
        "exercise": crisis.exercise,
    }


def _page_level(crisis, desks, level: LevelSnapshot, *, round_: int, deadline_at) -> None:
    """Page the on-duty officers of each desk the level notifies (earlier levels' pages
    stop: this one supersedes them)."""
    resolve_pages(subject_prefix=page_subject_prefix(crisis), reason=f"level {level.order} entered")
    for desk in desks:
        page_desk(**_page_request(crisis, desk, level, round_=round_, deadline_at=deadline_at))


# --- the timer ---------------------------------------------------------------------------------


def lock_crisis_nowait(crisis_id: int) -> Crisis | None:
    """Take the crisis row lock without waiting (we already hold a deadline row lock).

    No savepoint: if the lock is refused the whole firing rolls back anyway.
    """
    crises = Crisis.objects.filter(pk=crisis_id)
    if connection.features.has_select_for_update_nowait:
        try:
            return crises.select_for_update(nowait=True).first()
        except DatabaseError as exc:
            raise DeadlineBusy(f"crisis {crisis_id} is locked by another action") from exc
    return crises.first()


def on_escalation_deadline(deadline: Deadline) -> None:
    """A level's timeout (or an acknowledgement's) passed. Runs in the firing transaction.

    The handler of one deadline (its own task, ``fire_deadline``); slot tasks and the
    sweep fire many at once through :func:`on_escalation_deadlines`, with the same effects.
    """
    data = deadline.payload
    crisis = lock_crisis_nowait(data["crisis_id"])
    _act_on_deadline(crisis, data)


def _act_on_deadline(crisis: Crisis | None, data: dict) -> None:
    """What a fired escalation deadline does to its (locked) crisis, one at a time."""
    if crisis is None or crisis.status in FINISHED_STATUSES:
        return
    phase, order, round_ = data.get("phase"), data.get("level"), data.get("round", 0)
    if crisis.current_level != order or crisis.level_repeats != round_:
        return  # moved on since (defensive: cancellation normally prevents this)
    if phase == "level" and crisis.escalation_state == EscalationState.ESCALATING:
        _expire_level(crisis, order, round_)
    elif phase == "ack_timeout" and crisis.escalation_state == EscalationState.ACKNOWLEDGED:
        timeline.record(
            crisis=crisis,
            kind="ack_timed_out",
            payload={"level": order, "round": round_, "desk": data.get("desk")},
        )
        _enter_level(crisis, order, round_=round_ + 1, reason="ack_timed_out")


# --- the timer, many at once ----------------------------------------------------------------


def _lock_crises_skipping(ids: list[int]) -> dict[int, Crisis]:
    """Lock the crisis rows of ``ids`` that nobody else holds, in id order (never waits:
    the deadline rows are held already). SQLite serialises writers: every row is free."""
    crises = Crisis.objects.filter(pk__in=ids).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        crises = crises.select_for_update(skip_locked=True, of=("self",))
    return {c.pk: c for c in crises}


def _recipients_of(entries: list[tuple[Crisis, LevelSnapshot]]) -> dict[int, list[Desk]]:
    """:func:`recipient_desks` for many crises, each entering its level, in a few reads
    (the active desks, the affected states, the participants) instead of one per crisis:
    the same desks in the same order (by code)."""
    scopes_used = {scope for _, level in entries for scope in level.notify_scopes}
    if not scopes_used and not any(level.notify_desk_ids for _, level in entries):
        return {crisis.pk: [] for crisis, _ in entries}
    ids = [crisis.pk for crisis, _ in entries]
    desks = list(Desk.objects.filter(is_active=True).order_by("code"))
    affected: dict[int, set[int]] = {}
    if "affected" in scopes_used:
        through = Crisis.affected_states.through.objects.filter(crisis_id__in=ids)
        for crisis_id, state_id in through.values_list("crisis_id", "memberstate_id"):
            affected.setdefault(crisis_id, set()).add(state_id)
    parties: dict[int, set[int]] = {}
    if "participants" in scopes_used:
        rows = CrisisParticipant.objects.filter(crisis_id__in=ids)
        for crisis_id, desk_id in rows.values_list("crisis_id", "desk_id"):
            parties.setdefault(crisis_id, set()).add(desk_id)
    out = {}
    for crisis, level in entries:
        scopes, named = set(level.notify_scopes), set(level.notify_desk_ids)
        types = set(level.notify_agency_types)
        states, party = affected.get(crisis.pk, set()), parties.get(crisis.pk, set())

        def national(desk, scopes=scopes, types=types, states=states, party=party):
            if desk.kind != DeskKind.NATIONAL:
                return False
            reached = (
                ("affected" in scopes and desk.state_id in states)
                or ("participants" in scopes and desk.pk in party)
                or "all_states" in scopes
            )
            return reached and (not types or desk.agency_type in types)

        def told(desk, scopes=scopes, named=named, party=party, national=national):
            return (
                desk.pk in named
                or national(desk)
                or (
                    "participants" in scopes and desk.kind == DeskKind.REGIONAL and desk.pk in party
                )
                or ("regional" in scopes and desk.kind == DeskKind.REGIONAL)
            )

        out[crisis.pk] = [d for d in desks if told(d)] if scopes or named else []
    return out


def _open_level_pages(crises: list[Crisis]) -> set[int]:
    """The crises among ``crises`` with a level page still open (one read)."""
    if not crises:
        return set()
    prefixes = Q()
    for crisis in crises:
        prefixes |= Q(subject_key__startswith=page_subject_prefix(crisis))
    keys = Page.objects.filter(prefixes, state=PageState.OPEN).values_list("subject_key", flat=True)
    return {int(key.split(":")[1]) for key in keys}


@register_handler(DEADLINE_KIND, batch=True, single=on_escalation_deadline)
def on_escalation_deadlines(deadlines: list[Deadline]) -> list[Deadline]:
    """Fire many escalation deadlines in one transaction, with the effects of
    :func:`on_escalation_deadline` for each, in a constant number of statements for the
    common case (a level expiring into the next one, without level actions): the crisis
    rows locked at once, the crises updated in one statement, the desks, participants,
    notifications, next deadlines and pages written in bulk, both timeline entries of
    every crisis appended in one insert, and the events published after commit over one
    Redis connection. Anything else (ack timeouts, repeats, unanswered, level actions)
    goes through the one-at-a-time path, inside the same transaction.

    Returns the deadlines whose crisis another action holds (an acknowledgement, a stop):
    the engine puts them back to pending and fires them a moment later, as it does when
    the single handler raises ``DeadlineBusy``.
    """
    ids = [d.payload["crisis_id"] for d in deadlines]
    locked = _lock_crises_skipping(ids)
    busy: list[Deadline] = []
    missing = set(ids) - set(locked)
    if missing:  # locked by someone else, or gone (a gone crisis: nothing to do)
        exists = set(Crisis.objects.filter(pk__in=missing).values_list("pk", flat=True))
        busy = [d for d in deadlines if d.payload["crisis_id"] in exists]
    now = timezone.now()
    seen: set[int] = set()
    moving: list[tuple[Crisis, LevelSnapshot, int]] = []  # (crisis, next level, round of)
    for deadline in deadlines:
        data = deadline.payload
        crisis = locked.get(data["crisis_id"])
        if crisis is None:
            continue
        if crisis.pk in seen:  # two in one batch (never by design): the second waits
            busy.append(deadline)
            continue
        seen.add(crisis.pk)
        order, round_ = data.get("level"), data.get("round", 0)
        nxt = None
        if (
            data.get("phase") == "level"
            and crisis.status not in FINISHED_STATUSES
            and crisis.escalation_state == EscalationState.ESCALATING
            and crisis.current_level == order
            and crisis.level_repeats == round_
        ):
            nxt = ProtocolSnapshot.of(crisis).level(order + 1)
        if nxt is not None and not nxt.actions:
            moving.append((crisis, nxt, round_))
        else:
            _act_on_deadline(crisis, data)
    if moving:
        _expire_into_next_levels(moving, now)
    return busy


def _expire_into_next_levels(moving: list[tuple[Crisis, LevelSnapshot, int]], now) -> None:
    """``_expire_level`` then ``_enter_level`` (reason ``level_expired``, round 0) for
    each crisis, in bulk. Same records, same order per crisis; one instant (``now``)."""
    appends: list[timeline.Append] = []
    for crisis, level, round_ in moving:
        appends.append(
            timeline.Append(
                crisis, "level_expired", {"level": level.order - 1, "round": round_}, now
            )
        )
        crisis.current_level = level.order
        crisis.level_repeats = 0
        crisis.level_entered_at = now
        crisis.level_deadline_at = now + timedelta(seconds=level.timeout_seconds)
        crisis.escalation_state = EscalationState.ESCALATING
        crisis.updated_at = now
    Crisis.objects.bulk_update([crisis for crisis, _, _ in moving], LEVEL_FIELDS)
    recipients = _recipients_of([(crisis, level) for crisis, level, _ in moving])
    participants, notifications, specs, pages, events = [], [], [], [], []
    entered: dict[int, dict] = {}
    for crisis, level, _round in moving:
        desks, deadline_at = recipients[crisis.pk], crisis.level_deadline_at
        title, payload = _level_notice(crisis, level, 0, deadline_at)
        participants += [
            CrisisParticipant(crisis=crisis, desk=d, role=ParticipantRole.OBSERVER) for d in desks
        ]
        notifications += _level_notifications(crisis, level, 0, desks, title, payload)
        specs.append(
            DeadlineSpec(
                DEADLINE_KIND,
                deadline_subject(crisis),
                deadline_at,
                {"crisis_id": crisis.pk, "phase": "level", "level": level.order, "round": 0},
            )
        )
        pages += [
            _page_request(crisis, desk, level, round_=0, deadline_at=deadline_at) for desk in desks
        ]
        entered[crisis.pk] = {
            **payload,
            "reason": "level_expired",
            "desks": [d.code for d in desks],
            "actions_done": [],
        }
        if desks:
            events.append(
                ([desk_group(d.pk) for d in desks], _event(crisis, "escalation.level", **payload))
            )
    CrisisParticipant.objects.bulk_create(participants, ignore_conflicts=True)
    Notification.objects.bulk_create(notifications)
    schedule_deadlines_bulk(specs)
    # Earlier levels' pages stop first (the new level's pages share their prefix).
    still_paging = _open_level_pages([crisis for crisis, _, _ in moving])
    for crisis, level, _round in moving:
        if crisis.pk in still_paging:
            resolve_pages(
                subject_prefix=page_subject_prefix(crisis), reason=f"level {level.order} entered"
            )
    page_desks(pages)
    entered_at = timezone.now()
    ordered: list[timeline.Append] = []
    for expired, (crisis, _level, _round) in zip(appends, moving, strict=True):
        ordered += [
            expired,
            timeline.Append(crisis, "level_entered", entered[crisis.pk], entered_at),
        ]
    timeline.record_many(ordered)
    publish_many_on_commit(events)


@register_handler(REMINDER_KIND)
def on_reminder_deadline(deadline: Deadline) -> None:
    """Half-way through an ack timeout: remind the acknowledging desk to report progress."""
    data = deadline.payload
    crisis = lock_crisis_nowait(data["crisis_id"])
    if (
        crisis is None
        or crisis.escalation_state != EscalationState.ACKNOWLEDGED
        or crisis.current_level != data.get("level")
        or crisis.level_repeats != data.get("round")
    ):
        return
    payload = {
        "level": data["level"],
        "round": data["round"],
        "progress_due_at": data["progress_due_at"],
    }
    Notification.objects.create(
        desk_id=data["desk_id"],
        crisis=crisis,
        kind="escalation.reminder",
        title=(f"{crisis.reference}: report progress, or level {data['level']} is notified again"),
        payload=payload,
        link_path=f"/crises/{crisis.pk}/",
    )
    timeline.record(crisis=crisis, kind="reminder_sent", payload=payload)
    publish_on_commit(desk_group(data["desk_id"]), _event(crisis, "escalation.reminder", **payload))


def _expire_level(crisis: Crisis, order: int, round_: int) -> None:
    timeline.record(crisis=crisis, kind="level_expired", payload={"level": order, "round": round_})
    snapshot = ProtocolSnapshot.of(crisis)
    if snapshot.level(order + 1) is not None:
        _enter_level(crisis, order + 1, round_=0, reason="level_expired")
    elif snapshot.repeat_last_level and round_ < snapshot.max_repeats:
        _enter_level(crisis, order, round_=round_ + 1, reason="repeated")
    else:
        _mark_unanswered(crisis, order, round_)


def _mark_unanswered(crisis: Crisis, order: int, round_: int) -> None:
    crisis.escalation_state = EscalationState.UNANSWERED
    crisis.level_deadline_at = None
    crisis.save(update_fields=["escalation_state", "level_deadline_at", "updated_at"])
    resolve_pages(subject_prefix=page_subject_prefix(crisis), reason="nobody acknowledged")
    desk_ids = sorted(required_desk_ids(crisis) | {crisis.lead_desk_id})
    payload = {"level": order, "round": round_}
    Notification.objects.bulk_create(
        [
            Notification(
                desk_id=desk_id,
                crisis=crisis,
                kind="escalation.unanswered",
                title=f"{crisis.reference}: nobody acknowledged the top escalation level",
                payload=payload,
                link_path=f"/crises/{crisis.pk}/",
            )
            for desk_id in desk_ids
        ]
    )
    timeline.record(crisis=crisis, kind="unanswered", payload=payload)
    publish_on_commit(
        [desk_group(d) for d in desk_ids], _event(crisis, "escalation.unanswered", **payload)
    )


# --- actions by people ---------------------------------------------------------------------------


def acknowledge_level(*, crisis: Crisis, desk: Desk, by) -> EscalationAck:
    """Record ``desk``'s acknowledgement. Called holding the crisis row lock, after the
    checks of ``crisis.services.crises.acknowledge_crisis`` (which also tells the desks).

    Cancels the level's deadline (or, with an ack timeout in the protocol, re-arms it as
    an ack-timeout deadline). Idempotent per desk, level and round.
    """
    ack, created = EscalationAck.objects.get_or_create(
        crisis=crisis,
        level=crisis.current_level or 0,
        round=crisis.level_repeats,
        desk=desk,
        defaults={"acknowledged_by": by},
    )
    if not created and crisis.escalation_state == EscalationState.ACKNOWLEDGED:
        return ack
    cancel_deadlines(subject_key=deadline_subject(crisis))
    resolve_pages(
        subject_prefix=page_subject_prefix(crisis),
        reason=f"acknowledged by {desk.code}",
        by=by,
        desk=desk,
    )
    ack_timeout = ProtocolSnapshot.of(crisis).ack_timeout_seconds
    crisis.escalation_state = EscalationState.ACKNOWLEDGED
    crisis.level_deadline_at = None
    if ack_timeout:
        crisis.level_deadline_at = timezone.now() + timedelta(seconds=ack_timeout)
        _arm_ack_timeout(crisis, desk)
    crisis.save(update_fields=["escalation_state", "level_deadline_at", "updated_at"])
    payload = {"level": ack.level, "round": ack.round}
    if crisis.level_deadline_at:
        payload["progress_due_at"] = crisis.level_deadline_at.isoformat()
    timeline.record(crisis=crisis, kind="acknowledged", actor=by, desk=desk, payload=payload)
    return ack


def _arm_ack_timeout(crisis: Crisis, desk: Desk) -> None:
    """Arm the ack-timeout deadline (and the reminder half-way) for ``desk``'s ack."""
    remaining = (crisis.level_deadline_at - timezone.now()).total_seconds()
    if remaining >= 2:
        schedule_deadline(
            kind=REMINDER_KIND,
            subject_key=deadline_subject(crisis),
            due_at=timezone.now() + timedelta(seconds=remaining / 2),
            payload={
                "crisis_id": crisis.pk,
                "level": crisis.current_level,
                "round": crisis.level_repeats,
                "desk_id": desk.pk,
                "progress_due_at": crisis.level_deadline_at.isoformat(),
            },
        )
    schedule_deadline(
        kind=DEADLINE_KIND,
        subject_key=deadline_subject(crisis),
        due_at=crisis.level_deadline_at,
        payload={
            "crisis_id": crisis.pk,
            "phase": "ack_timeout",
            "level": crisis.current_level,
            "round": crisis.level_repeats,
            "desk": desk.code,
        },
    )


def report_progress(*, by, crisis: Crisis | int, desk: Desk, note: str = "") -> Crisis:
    """The acknowledging desk reports progress: the ack timeout starts again.

    Only while acknowledged, by a writing member of a desk that acknowledged this level
    and round.
    """
    with transaction.atomic():
        _access, crisis, _parties = begin_crisis_action(by=by, desk=desk, crisis=crisis)
        if crisis.escalation_state != EscalationState.ACKNOWLEDGED:
            raise TransitionNotAllowed(
                _("Progress is reported on an acknowledged escalation."),
                details={"escalation_state": crisis.escalation_state},
            )
        acked = EscalationAck.objects.filter(
            crisis=crisis, level=crisis.current_level, round=crisis.level_repeats, desk=desk
        ).exists()
        if not acked:
            raise PermissionDenied(
                _("%(desk_code)s has not acknowledged this level.") % {"desk_code": desk.code},
                code="not_acknowledged",
            )
        payload = {"level": crisis.current_level, "note": note[:2000]}
        ack_timeout = ProtocolSnapshot.of(crisis).ack_timeout_seconds
        if ack_timeout:
            crisis.level_deadline_at = timezone.now() + timedelta(seconds=ack_timeout)
            crisis.save(update_fields=["level_deadline_at", "updated_at"])
            _arm_ack_timeout(crisis, desk)
            payload["progress_due_at"] = crisis.level_deadline_at.isoformat()
        timeline.record(
            crisis=crisis, kind="progress_reported", actor=by, desk=desk, payload=payload
        )
        return crisis


def stop_escalation(*, by, crisis: Crisis | int, desk: Desk, reason: str) -> Crisis:
    """A supervisor or coordinator of a desk that is party to the crisis stops its
    escalation, saying why. Nobody is notified any more and nothing stays armed. Refused
    (409) once stopped or finished; a re-escalation starts the ladder again.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the escalation is stopped."), code="reason_required")
    with transaction.atomic():
        access, crisis, _parties = begin_crisis_action(by=by, desk=desk, crisis=crisis)
        if access.role_on(desk) not in STOPPING_ROLES:
            raise PermissionDenied(
                _("Only a supervisor or a coordinator can stop an escalation."),
                details={"role": access.role_on(desk), "required": sorted(STOPPING_ROLES)},
            )
        if crisis.escalation_state in (
            EscalationState.NOT_STARTED,
            EscalationState.STOPPED,
            EscalationState.FINISHED,
        ):
            raise TransitionNotAllowed(
                _("The escalation cannot be stopped (it is %(crisis_escalation_state)s).")
                % {"crisis_escalation_state": crisis.escalation_state},
                details={"escalation_state": crisis.escalation_state},
            )
        cancel_deadlines(subject_key=deadline_subject(crisis))
        resolve_pages(subject_prefix=page_subject_prefix(crisis), reason="escalation stopped")
        crisis.escalation_state = EscalationState.STOPPED
        crisis.level_deadline_at = None
        crisis.save(update_fields=["escalation_state", "level_deadline_at", "updated_at"])
        payload = {"level": crisis.current_level, "reason": reason[:2000]}
        timeline.record(
            crisis=crisis, kind="escalation_stopped", actor=by, desk=desk, payload=payload
        )
        publish_on_commit(
            [desk_group(d) for d in sorted(required_desk_ids(crisis) | {crisis.lead_desk_id})],
            _event(crisis, "escalation.stopped", desk=desk.code, **payload),
        )
        return crisis


def finish_escalation(*, crisis: Crisis, by=None) -> None:
    """The crisis is resolved: no level waits any more. Called holding the row lock."""
    cancel_deadlines(subject_key=deadline_subject(crisis))
    resolve_pages(subject_prefix=page_subject_prefix(crisis), reason="crisis resolved")
    crisis.escalation_state = EscalationState.FINISHED
    crisis.level_deadline_at = None
    crisis.save(update_fields=["escalation_state", "level_deadline_at", "updated_at"])
