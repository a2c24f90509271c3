"""The crisis lifecycle: report, transition, acknowledge, severity, participants, tasks,
situation updates. (CAP intake, ``crisis.services.cap_intake``, opens crises with
:func:`open_reported_crisis`, as reporting does.)

Every action here is one transaction: it checks who is asking (``directory.access``), locks
the crisis row, checks the crisis's state, writes, appends to the crisis's hash-chained
timeline and, after commit, pushes a ``crisis.updated`` event to every desk concerned.
Refusals are domain errors (``core.errors``) and leave nothing written.

Who may do which transition is the one table ``crisis.lifecycle.TRANSITIONS``; every
action begins with ``crisis.services.steps.begin_crisis_action`` (the caller acts for a
desk that is party to the crisis, the row locked).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.disclosure import check_marking, is_narrow
from core.errors import InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from core.text import require_xml_safe
from crisis.lifecycle import (
    ACKNOWLEDGEABLE,
    ACTIVE_STATUSES,
    FOLLOW_UP_ROLE,
    MANAGERS,
    OPEN_STATUSES,
    RESTARTABLE,
    TRANSITIONS,
    describe,
    may,
    transition_for,
)
from crisis.models import (
    DEFAULT_UPDATE_TLP,
    Crisis,
    CrisisCategory,
    CrisisParticipant,
    CrisisStatus,
    CrisisTask,
    EscalationAck,
    ParticipantRole,
    ReferenceCounter,
    Severity,
    SituationUpdate,
)
from crisis.selectors import crises_visible_to
from crisis.services import escalation, timeline
from crisis.services.cap_alerts import (
    issue_cap_alert,
)
from crisis.services.protocols import published_version_for, snapshot_of
from crisis.services.steps import announce, begin_crisis_action
from crisis.services.tasks import cancel_task_reminders, sync_reminder
from crisis.snapshot import ProtocolSnapshot
from directory.access import access_for
from directory.models import Desk, MemberState

S = CrisisStatus


# --- shared steps ---


def _next_reference() -> str:
    year = timezone.now().year
    ReferenceCounter.objects.get_or_create(year=year)
    counter = ReferenceCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"CR-{year}-{counter.last_number:04d}"


def _severity(value) -> int:
    names = ", ".join(f"{v} {label}" for v, label in Severity.choices)
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        number = None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        number = None
    if number is None or number not in Severity.values:
        raise InvalidInput(
            _("Severity must be a whole number from 1 to 5 (%(names)s); got %(value)s.")
            % {"names": names, "value": repr(value)},
            code="invalid_severity",
            details={"severity": value},
        )
    return number


def member_states_named(codes) -> list[MemberState]:
    """The member states of ISO 3166-1 alpha-3 ``codes``; InvalidInput for none or unknown."""
    if not codes:
        raise InvalidInput(
            _("Name at least one affected member state (ISO 3166-1 alpha-3, e.g. THA)."),
            code="no_affected_state",
        )
    wanted = list(dict.fromkeys(str(c).strip().upper() for c in codes))
    states = list(MemberState.objects.filter(code__in=wanted))
    unknown = sorted(set(wanted) - {s.code for s in states})
    if unknown:
        raise InvalidInput(
            _(
                "Unknown state code(s) %(unknown)s: use ISO 3166-1 alpha-3 codes of "
                "member states, e.g. THA."
            )
            % {"unknown": ", ".join(unknown)},
            code="unknown_state",
            details={"unknown": unknown},
        )
    return states


def parse_coordinate(value, name: str, limit: int) -> Decimal | None:
    """``value`` as a coordinate within ±``limit`` (5 decimals), None if empty."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.00001"))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or not -limit <= number <= limit:
        raise InvalidInput(
            _("%(name)s must be a number from -%(limit)s to %(limit)s; got %(value)s.")
            % {"name": name, "limit": limit, "value": repr(value)},
            code="invalid_location",
            details={name: value},
        )
    return number


def _instantiate_tasks(crisis: Crisis, participants=None) -> int:
    """Create the checklist tasks of ``participants`` (all by default) that are missing."""
    items = ProtocolSnapshot.of(crisis).checklist
    if not items or crisis.activated_at is None:
        return 0
    participants = participants if participants is not None else crisis.participants.all()
    existing = set(crisis.tasks.values_list("desk_id", "item_order"))
    tasks = [
        CrisisTask(
            crisis=crisis,
            desk_id=p.desk_id,
            item_order=item.order,
            party_role=item.party_role,
            title=item.title,
            description=item.description,
            due_at=crisis.activated_at + timedelta(minutes=item.due_after_minutes),
        )
        for p in participants
        for item in items
        if item.applies_to(p.role) and (p.desk_id, item.order) not in existing
    ]
    CrisisTask.objects.bulk_create(tasks)
    return len(tasks)


# --- actions ---


def _validate_report(*, category, title, severity, affected_state_codes, latitude, longitude):
    if category not in CrisisCategory.values:
        raise InvalidInput(
            _("Unknown category %(category)s; one of: %(crisiscategory_values)s.")
            % {
                "category": repr(category),
                "crisiscategory_values": ", ".join(CrisisCategory.values),
            },
            code="invalid_category",
            details={"category": category},
        )
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise InvalidInput(_("A title of 1 to 200 characters is required."), code="invalid_title")
    lat = parse_coordinate(latitude, "latitude", 90)
    lon = parse_coordinate(longitude, "longitude", 180)
    if (lat is None) != (lon is None):
        raise InvalidInput(
            _("Give both latitude and longitude, or neither."), code="invalid_location"
        )
    return title, _severity(severity), member_states_named(affected_state_codes), lat, lon


def open_reported_crisis(
    *,
    by,
    desk,
    category,
    title,
    severity,
    states,
    description,
    lat,
    lon,
    admin_area,
    exercise=False,
) -> Crisis:
    """Write a reported crisis, its participants and its first timeline entry.

    Called inside the action's transaction (reporting, CAP intake), after every check
    passed; the caller issues the CAP alert and announces. The texts go into every CAP
    alert of the crisis, so a character XML cannot carry is refused here (400).
    """
    require_xml_safe(title=title, description=description, admin_area=admin_area)
    crisis = Crisis.objects.create(
        reference=_next_reference(),
        title=title,
        category=category,
        severity=severity,
        description=description or "",
        reported_by_desk=desk,
        reported_by=by if getattr(by, "is_authenticated", False) else None,
        lead_desk=desk,
        latitude=lat,
        longitude=lon,
        admin_area=(admin_area or "")[:120],
        exercise=bool(exercise),
    )
    crisis.affected_states.set(states)
    participants = [CrisisParticipant(crisis=crisis, desk=desk, role=ParticipantRole.LEAD)]
    participants += [
        CrisisParticipant(crisis=crisis, desk=d, role=ParticipantRole.AFFECTED)
        for d in Desk.objects.filter(state__in=states, is_active=True).exclude(pk=desk.pk)
    ]
    CrisisParticipant.objects.bulk_create(participants)
    timeline.record(
        kind="reported",
        crisis=crisis,
        actor=by,
        desk=desk,
        payload={
            "reference": crisis.reference,
            "title": title,
            "category": category,
            "severity": severity,
            "affected_states": sorted(s.code for s in states),
            "latitude": str(lat) if lat is not None else None,
            "longitude": str(lon) if lon is not None else None,
            "admin_area": crisis.admin_area,
            "participants": {p.desk.code: p.role for p in participants},
            "exercise": crisis.exercise,
        },
    )
    return crisis


def report_crisis(
    *,
    by,
    desk: Desk,
    category: str,
    title: str,
    severity: int,
    affected_state_codes: list[str],
    description: str = "",
    latitude=None,
    longitude=None,
    admin_area: str = "",
    exercise: bool = False,
) -> Crisis:
    """A desk reports a crisis (or, with ``exercise``, starts a drill: an exercise crisis,
    marked as such for good). It starts ``reported`` with the desk as lead, every desk of
    an affected state as an affected participant, and a first CAP Alert issued.

    Who: any writing member of ``desk``. One transaction; nothing is written on refusal.
    """
    access_for(by).require_act_for(desk)
    require_xml_safe(title=title, description=description, admin_area=admin_area)
    title, severity, states, lat, lon = _validate_report(
        category=category,
        title=title,
        severity=severity,
        affected_state_codes=affected_state_codes,
        latitude=latitude,
        longitude=longitude,
    )
    with transaction.atomic():
        crisis = open_reported_crisis(
            by=by, desk=desk, category=category, title=title, severity=severity, states=states,
            description=description, lat=lat, lon=lon, admin_area=admin_area,
            exercise=exercise,
        )  # fmt: skip
        issue_cap_alert(crisis)
        announce(crisis, "reported")
    return crisis


def transition_crisis(
    *, by, desk: Desk, crisis: Crisis, to_status: str, reason: str = ""
) -> Crisis:
    """Move the crisis along its lifecycle (:data:`TRANSITIONS`).

    Activation binds the published protocol version of the crisis's category as a snapshot,
    starts its escalation and creates every participant's checklist tasks. Resolution
    finishes the escalation. A transition not in the table is refused with 409
    (``transition_not_allowed``), one the caller may not make with 403.
    """
    reason = (reason or "").strip()
    if to_status not in S.values:
        raise InvalidInput(
            _("Unknown status %(to_status)s; one of: %(statuses)s.")
            % {"to_status": repr(to_status), "statuses": ", ".join(S.values)},
            code="invalid_status",
        )
    with transaction.atomic():
        access, crisis, parties = begin_crisis_action(by=by, desk=desk, crisis=crisis)
        step = transition_for(crisis.status, to_status)
        if step is None:
            possible = [t.target for t in TRANSITIONS if t.source == crisis.status]
            raise TransitionNotAllowed(
                (
                    _("A %(status)s crisis cannot become %(target)s; it can become: %(possible)s.")
                    if possible
                    else _("A %(status)s crisis cannot become %(target)s; it is final.")
                )
                % {
                    "status": crisis.get_status_display().lower(),
                    "target": to_status,
                    "possible": ", ".join(possible),
                },
                details={"from": crisis.status, "to": to_status, "allowed": possible},
            )
        if not may(access, desk, parties, step.allowed):
            raise PermissionDenied(
                _("To %(step)s a crisis you must be %(who)s.")
                % {"step": step.label.lower(), "who": describe(step.allowed)},
                details={"transition": step.verb},
            )
        if step.needs_reason and not reason:
            raise InvalidInput(
                _("Say why (%(step)s needs a reason).") % {"step": step.label.lower()},
                code="reason_required",
            )
        now = timezone.now()
        previous = crisis.status
        crisis.status = step.target
        fields = ["status", "updated_at"]
        payload = {"from": previous, "to": step.target, "verb": step.verb, "reason": reason}
        if step.verb == "activate":
            version = published_version_for(crisis.category)
            crisis.activated_at = now
            fields.append("activated_at")
            if version is not None:
                crisis.protocol_version = version
                crisis.protocol_snapshot = snapshot_of(version)
                fields += ["protocol_version", "protocol_snapshot"]
            payload["protocol"] = (
                {"version_id": version.pk, "name": version.protocol.name, "number": version.number}
                if version
                else None
            )
        elif step.target == S.RESOLVED:
            crisis.resolved_at = now
            fields.append("resolved_at")
        elif step.target == S.CLOSED:
            crisis.closed_at = now
            fields.append("closed_at")
        crisis.save(update_fields=fields)
        if step.verb == "activate":
            payload["tasks_created"] = _instantiate_tasks(crisis)
        timeline.record(kind="status_changed", crisis=crisis, actor=by, desk=desk, payload=payload)
        restarts = step.verb == "re_escalate" and crisis.escalation_state in RESTARTABLE
        if step.verb == "activate" or restarts:
            escalation.start_escalation(crisis=crisis, by=by)
        elif step.target == S.RESOLVED:
            escalation.finish_escalation(crisis=crisis, by=by)
        issue_cap_alert(crisis)
        announce(crisis, "status_changed", transition=step.verb)
    return crisis


def acknowledge_crisis(*, by, desk: Desk, crisis: Crisis) -> Crisis:
    """``desk`` acknowledges the crisis at its current escalation level.

    Who: any writing member of a desk that is party to the crisis. Acknowledging twice at
    the same level and round changes nothing. Refused (409) when no level is waiting.
    """
    with transaction.atomic():
        _access, crisis, _parties = begin_crisis_action(by=by, desk=desk, crisis=crisis)
        if crisis.status not in ACTIVE_STATUSES or (crisis.escalation_state not in ACKNOWLEDGEABLE):
            raise TransitionNotAllowed(
                _(
                    "Nothing to acknowledge: the crisis is %(status)s "
                    "and its escalation is %(state)s."
                )
                % {
                    "status": crisis.get_status_display().lower(),
                    "state": crisis.get_escalation_state_display().lower(),
                },
                code="nothing_to_acknowledge",
                details={"status": crisis.status, "escalation_state": crisis.escalation_state},
            )
        already = EscalationAck.objects.filter(
            crisis=crisis, level=crisis.current_level or 0, round=crisis.level_repeats, desk=desk
        ).exists()
        if already:
            return crisis
        escalation.acknowledge_level(crisis=crisis, desk=desk, by=by)
        announce(crisis, "acknowledged", desk_id=desk.pk)
    return crisis


def change_severity(*, by, desk: Desk, crisis: Crisis, severity: int, reason: str = "") -> Crisis:
    """Change the severity (1-5) of an open crisis, with a trace and a CAP Update.

    Who: operators and supervisors of the lead desk, coordinators.
    """
    severity = _severity(severity)
    with transaction.atomic():
        access, crisis, parties = begin_crisis_action(by=by, desk=desk, crisis=crisis)
        if not may(access, desk, parties, MANAGERS):
            raise PermissionDenied(
                _("To change the severity you must be %(who)s.") % {"who": describe(MANAGERS)}
            )
        if crisis.status not in OPEN_STATUSES:
            raise TransitionNotAllowed(
                _("The severity of a %(status)s crisis is final.")
                % {"status": crisis.get_status_display().lower()},
                code="crisis_not_open",
            )
        if severity == crisis.severity:
            return crisis
        previous = crisis.severity
        crisis.severity = severity
        crisis.save(update_fields=["severity", "updated_at"])
        timeline.record(
            kind="severity_changed",
            crisis=crisis,
            actor=by,
            desk=desk,
            payload={"from": previous, "to": severity, "reason": (reason or "").strip()},
        )
        issue_cap_alert(crisis)
        announce(crisis, "severity_changed")
    return crisis


def set_participant(
    *, by, crisis: Crisis, desk: Desk, role: str, acting_desk: Desk | None = None
) -> CrisisParticipant:
    """Add ``desk`` to the crisis or change its role (lead, affected, supporting, observer).

    Making a desk lead moves the lead: the previous lead becomes affected (if its state is)
    or supporting. Who: operators and supervisors of the lead desk, coordinators; they act
    for ``acting_desk`` (default: the lead desk, else their regional desk). New participants
    of an active crisis get their checklist tasks.
    """
    if role not in ParticipantRole.values:
        raise InvalidInput(
            _("Unknown participant role %(role)s; one of: %(participantrole_values)s.")
            % {"role": repr(role), "participantrole_values": ", ".join(ParticipantRole.values)},
            code="invalid_role",
        )
    access = access_for(by)
    if acting_desk is None:
        acting_desk = next(
            (d for d in access.writing_desks() if d.pk == crisis.lead_desk_id),
            next((d for d in access.writing_desks() if d.is_regional), access.default_desk()),
        )
    if acting_desk is None:
        raise PermissionDenied(_("Your role is read-only."), code="read_only")
    with transaction.atomic():
        crisis = _begin_participant_change(by, crisis, acting_desk)
        if not desk.is_active:
            raise InvalidInput(
                _("Desk %(desk)s is not active.") % {"desk": desk.code}, code="inactive_desk"
            )
        current = CrisisParticipant.objects.filter(crisis=crisis, desk=desk).first()
        if current is not None and current.role == role:
            return current
        if current is not None and current.role == ParticipantRole.LEAD:
            raise TransitionNotAllowed(
                _("The lead desk keeps its role until another desk is made lead."),
                code="lead_required",
            )
        change = {"desk": desk.code, "from": current.role if current else None, "to": role}
        if role == ParticipantRole.LEAD:
            old_lead = CrisisParticipant.objects.get(crisis=crisis, role=ParticipantRole.LEAD)
            is_affected = crisis.affected_states.filter(pk=old_lead.desk.state_id).exists()
            old_lead.role = ParticipantRole.AFFECTED if is_affected else ParticipantRole.SUPPORTING
            old_lead.save(update_fields=["role"])
            change["previous_lead"] = {"desk": old_lead.desk.code, "now": old_lead.role}
            crisis.lead_desk = desk
            crisis.save(update_fields=["lead_desk", "updated_at"])
        if current is None:
            current = CrisisParticipant.objects.create(crisis=crisis, desk=desk, role=role)
        else:
            current.role = role
            current.save(update_fields=["role"])
        if crisis.status in ACTIVE_STATUSES:
            change["tasks_added"] = _instantiate_tasks(crisis, [current])
        timeline.record(
            kind="participant_changed", crisis=crisis, actor=by, desk=acting_desk, payload=change
        )
        announce(crisis, "participant_changed", desk_id=desk.pk)
    return current


def _begin_participant_change(by, crisis: Crisis, acting_desk: Desk) -> Crisis:
    """Lock the crisis for a change of its participants; refuse who may not make it
    (:func:`set_participant`) and a closed crisis."""
    access, crisis, parties = begin_crisis_action(by=by, desk=acting_desk, crisis=crisis)
    if not may(access, acting_desk, parties, MANAGERS):
        raise PermissionDenied(
            _("To change participants you must be %(who)s.") % {"who": describe(MANAGERS)}
        )
    if crisis.status == S.CLOSED:
        raise TransitionNotAllowed(
            _("The participants of a closed crisis are final."), code="crisis_not_open"
        )
    return crisis


def remove_participant(*, by, crisis: Crisis, desk: Desk, acting_desk: Desk) -> None:
    """Take ``desk`` out of the crisis's participants. Who: as for :func:`set_participant`
    (operators and supervisors of the lead desk, coordinators), acting for ``acting_desk``.

    The lead desk cannot leave (make another desk lead first). The desk's checklist tasks
    not done yet go with it (done ones stay, as the record; added again, it gets the
    missing ones back), and their reminders are cancelled. A desk of an affected state
    still sees the crisis through its state. Refused (409) once the crisis is closed.
    """
    with transaction.atomic():
        crisis = _begin_participant_change(by, crisis, acting_desk)
        current = CrisisParticipant.objects.filter(crisis=crisis, desk=desk).first()
        if current is None:
            return
        if current.role == ParticipantRole.LEAD:
            raise TransitionNotAllowed(
                _("The lead desk keeps its role until another desk is made lead."),
                code="lead_required",
            )
        open_tasks = list(CrisisTask.objects.filter(crisis=crisis, desk=desk, done_at__isnull=True))
        cancel_task_reminders(open_tasks)
        CrisisTask.objects.filter(pk__in=[t.pk for t in open_tasks]).delete()
        current.delete()
        timeline.record(
            kind="participant_removed",
            crisis=crisis,
            actor=by,
            desk=acting_desk,
            payload={"desk": desk.code, "role": current.role, "tasks_removed": len(open_tasks)},
        )
        announce(crisis, "participant_removed", desk_id=desk.pk)


def set_task_done(*, by, task: CrisisTask, done: bool) -> CrisisTask:
    """Mark a checklist task done or undone. Who: writing members of the task's desk.

    Idempotent (marking a done task done again changes nothing). Refused (409) once the
    crisis is resolved or closed, except a review's follow-up tasks (``FOLLOW_UP_ROLE``).
    """
    access = access_for(by)
    if not access.is_member_of(task.desk):
        if not crises_visible_to(access).filter(pk=task.crisis_id).exists():
            raise NotFound(_("No such crisis."))
        raise PermissionDenied(
            _("Only the people of desk %(desk)s mark its tasks done.") % {"desk": task.desk.code},
            code="not_your_task",
        )
    with transaction.atomic():
        _access, crisis, _parties = begin_crisis_action(by=by, desk=task.desk, crisis=task.crisis)
        task = CrisisTask.objects.select_for_update().get(pk=task.pk)
        if crisis.status not in ACTIVE_STATUSES and task.party_role != FOLLOW_UP_ROLE:
            raise TransitionNotAllowed(
                _("The tasks of a %(status)s crisis are final.")
                % {"status": crisis.get_status_display().lower()},
                code="crisis_not_open",
            )
        if task.is_done == done:
            return task
        task.done_at = timezone.now() if done else None
        task.done_by = by if done else None
        task.save(update_fields=["done_at", "done_by"])
        sync_reminder(task)
        timeline.record(
            kind="task_done" if done else "task_undone",
            crisis=crisis,
            actor=by,
            desk=task.desk,
            payload={"task_id": task.pk, "item": task.item_order, "title": task.title},
        )
        announce(crisis, "task_done" if done else "task_undone", task_id=task.pk)
    return task


def post_situation_update(
    *,
    by,
    desk: Desk,
    crisis: Crisis,
    conditions: str,
    actions: str = "",
    needs: str = "",
    tlp: str | None = None,
) -> SituationUpdate:
    """A party posts a situation update (conditions, actions, needs). Who: writing
    members of a desk party to the crisis, until it is closed.

    ``tlp`` is its marking (``DEFAULT_UPDATE_TLP``, GREEN, if not given). A narrow one
    (AMBER+STRICT, RED) keeps the crisis's parties of this moment as its recipients, stays
    out of the timeline's text (the entry says only that an update was posted, and its
    marking) and does not become the crisis's ``latest_update`` (which every party and the
    regional centre read); any other becomes the latest.
    """
    try:
        tlp = check_marking(tlp) if tlp else DEFAULT_UPDATE_TLP
    except ValueError as exc:
        raise InvalidInput(str(exc), code="bad_field", details={"field": "tlp"}) from None
    conditions = (conditions or "").strip()
    # The latest update's conditions go into every later CAP alert of the crisis.
    require_xml_safe(conditions=conditions, actions=actions, needs=needs)
    if not conditions:
        raise InvalidInput(
            _("Describe the conditions (what is the situation now)."), code="invalid"
        )
    with transaction.atomic():
        _access, crisis, _parties = begin_crisis_action(by=by, desk=desk, crisis=crisis)
        if crisis.status == S.CLOSED:
            raise TransitionNotAllowed(
                _("A closed crisis takes no more updates."), code="crisis_not_open"
            )
        update = SituationUpdate.objects.create(
            crisis=crisis,
            desk=desk,
            author=by,
            conditions=conditions,
            actions=(actions or "").strip(),
            needs=(needs or "").strip(),
            tlp=tlp,
        )
        payload = {"update_id": update.pk, "tlp": tlp}
        if is_narrow(tlp):
            update.recipient_desks.set(crisis.participants.values_list("desk_id", flat=True))
            crisis.save(update_fields=["updated_at"])
        else:
            crisis.latest_update = update
            crisis.save(update_fields=["latest_update", "updated_at"])
            payload.update(conditions=update.conditions, actions=update.actions, needs=update.needs)
        timeline.record(
            kind="situation_update", crisis=crisis, actor=by, desk=desk, payload=payload
        )
        announce(crisis, "situation_update", update_id=update.pk)
    return update


__all__ = [
    "acknowledge_crisis",
    "change_severity",
    "post_situation_update",
    "remove_participant",
    "report_crisis",
    "set_participant",
    "set_task_done",
    "transition_crisis",
]
