"""Playing an inject: the deadline handler (kind ``exercise.inject``) and one player per type.

Exactly once: an inject waits as a deadline of the engine (``deadlines.services``), which
fires each deadline once through worker crashes and redeliveries, and runs this handler in
the firing transaction. The handler locks the inject row and plays it only while it is
``scheduled``; the inject's effects (a situation update, a message, a request …), its new
status and the deadline's ``fired`` state commit together or not at all. A paused or ended
run has withdrawn its injects' deadlines under the same row locks, so a late task finds
nothing to do.

Each inject acts through the real service of its kind, as a person of its desk (the
desk's first supervisor by username; a desk without one: its first writing member), the
scripted stand-in for that desk. A service's refusal (a closed crisis, a room not open
yet …) does not retry forever: the inject is marked ``failed`` with the reason, which
the controller sees.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, DomainError, InvalidInput
from core.events import publish_on_commit, user_group
from crisis import cap
from crisis.models import CapAlert, CapDirection, Crisis
from crisis.services import timeline
from crisis.services.cap_alerts import CATEGORY_TO_CAP, ISO3_GEOCODE
from crisis.services.cap_intake import ingest_cap_alert
from crisis.services.crises import post_situation_update, transition_crisis
from deadlines.services import register_handler
from directory.models import WRITING_ROLES, Desk, DeskMembership, Role
from exercises.models import Inject, InjectStatus
from hotline.models import ChannelKind, ChannelStatus, HotlineChannel
from hotline.services.crisis_rooms import open_room_for_crisis
from hotline.services.messages import send_message
from humanitarian.models import Shelter
from humanitarian.services.assistance import create_request
from humanitarian.services.shelters import register_shelter, update_shelter

INJECT_KIND = "exercise.inject"

#: Idempotency keys of the messages injects send (hotline dedupes on them).
MESSAGE_NAMESPACE = uuid.UUID("6f1c7f6e-3b7a-4c1e-9a53-5e8f3a0c2d11")


def actor_for(desk: Desk):
    """The person an inject (or the run's crisis report) acts as, for ``desk``."""
    memberships = (
        DeskMembership.objects.filter(desk=desk, role__in=WRITING_ROLES, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    chosen = next((m for m in memberships if m.role == Role.SUPERVISOR), None)
    chosen = chosen or memberships.first()
    if chosen is None:
        raise Conflict(
            _("Desk %(desk)s has nobody who may act for it.") % {"desk": desk.code},
            code="desk_without_people",
        )
    # A fresh instance: the access cache is per user object.
    return get_user_model().objects.get(pk=chosen.user_id)


# --- players: one per inject type, each calls the real service -----------------------------


def _cap_alert(inject: Inject, crisis: Crisis, by) -> str:
    f = inject.fields
    first = (
        CapAlert.objects.filter(crisis=crisis, direction=CapDirection.ISSUED).order_by("id").first()
    )
    references = (
        [(first.sender, first.identifier, cap.format_datetime(first.sent_at))] if first else []
    )
    states = sorted(crisis.affected_states.all(), key=lambda s: s.code)
    info = cap.CapInfo(
        categories=[CATEGORY_TO_CAP[crisis.category]],
        event=crisis.get_category_display(),
        urgency=f["urgency"],
        severity=f["severity"],
        certainty=f["certainty"],
        sender_name=f["sender_name"],
        headline=f["headline"],
        description=f["description"],
        areas=[
            cap.CapArea(
                area_desc=crisis.admin_area or ", ".join(s.name for s in states) or "Region",
                geocodes=[(ISO3_GEOCODE, s.code) for s in states],
            )
        ],
    )
    message = cap.CapMessage(
        identifier=f"EXERCISE-{inject.run_id}-{inject.pk}",
        sender=f["sender"],
        sent=timezone.now().replace(microsecond=0),
        status="Exercise",
        msg_type="Update" if references else "Alert",
        scope="Public",
        references=references,
        incidents=crisis.reference,
        infos=[info],
    )
    try:
        intake = ingest_cap_alert(by=by, desk=inject.desk, xml=cap.render_alert(message))
    except InvalidInput as exc:
        # Until CAP intake takes status Exercise, the drill's alert goes in as Actual
        # (on the exercise crisis it references, so it stays a drill's alert).
        if (exc.details or {}).get("element") != "alert/status":
            raise
        message.status = "Actual"
        intake = ingest_cap_alert(by=by, desk=inject.desk, xml=cap.render_alert(message))
    if intake.opened:
        return _("CAP alert %(identifier)s received; it opened a crisis.") % {
            "identifier": message.identifier
        }
    return _("CAP alert %(identifier)s received on the crisis.") % {
        "identifier": message.identifier
    }


def _situation_update(inject: Inject, crisis: Crisis, by) -> str:
    f = inject.fields
    update = post_situation_update(
        by=by, desk=inject.desk, crisis=crisis, conditions=f["conditions"],
        actions=f["actions"], needs=f["needs"],
    )  # fmt: skip
    return _("Situation update %(id)s posted.") % {"id": update.pk}


def _line_for(inject: Inject, crisis: Crisis) -> HotlineChannel:
    to = inject.fields.get("to") or "room"
    lines = HotlineChannel.objects.filter(status=ChannelStatus.ACTIVE)
    if to == "room":
        line = lines.filter(kind=ChannelKind.CRISIS_ROOM, crisis_ref=crisis.reference).first()
        # No protocol level has opened it yet (or the drill's crisis was acknowledged
        # before): open it as a level would, so the script does not depend on timing.
        return line or open_room_for_crisis(crisis=crisis, level={})
    line = (
        lines.filter(
            kind=ChannelKind.BILATERAL, members__desk=inject.desk, members__removed_at=None
        )
        .filter(members__desk__code=to, members__removed_at=None)
        .first()
    )
    if line is None:
        raise Conflict(
            _("There is no active line between %(a)s and %(b)s.")
            % {"a": inject.desk.code, "b": to},
            code="no_line",
        )
    return line


def _message(inject: Inject, crisis: Crisis, by) -> str:
    f = inject.fields
    line = _line_for(inject, crisis)
    message, _created = send_message(
        by=by, channel_id=line.pk, body=f["body"], priority=f["priority"],
        client_msg_id=uuid.uuid5(MESSAGE_NAMESPACE, inject.subject_key), desk_id=inject.desk_id,
    )  # fmt: skip
    return _("Message %(seq)s sent on %(line)s.") % {"seq": message.seq, "line": line.name}


def _request(inject: Inject, crisis: Crisis, by) -> str:
    f = inject.fields
    request = create_request(
        by=by, desk=inject.desk, crisis=crisis, sector=f["sector"], item=f["item"],
        quantity=f["quantity"], priority=f["priority"], location=f["location"],
        needed_by=timezone.now() + timedelta(seconds=f["needed_within_seconds"]), submit=True,
    )  # fmt: skip
    return _("Request %(id)s opened.") % {"id": request.pk}


def _shelter(inject: Inject, crisis: Crisis, by) -> str:
    f = inject.fields
    existing = Shelter.objects.filter(
        crisis=crisis, name=f["name"], managing_desk=inject.desk
    ).first()
    if existing is not None:
        shelter = update_shelter(
            by=by, shelter_id=existing.pk, population=f["population"], capacity=f["capacity"]
        )
        return _("Shelter %(name)s updated.") % {"name": shelter.name}
    shelter = register_shelter(
        by=by, desk=inject.desk, crisis=crisis, name=f["name"], capacity=f["capacity"],
        population=f["population"], location=f["location"],
    )  # fmt: skip
    return _("Shelter %(name)s registered.") % {"name": shelter.name}


def _transition(inject: Inject, crisis: Crisis, by) -> str:
    f = inject.fields
    crisis = transition_crisis(
        by=by, desk=inject.desk, crisis=crisis, to_status=f["to"], reason=f["reason"]
    )
    return _("The crisis is now %(status)s.") % {"status": crisis.get_status_display().lower()}


PLAYERS = {
    "cap_alert": _cap_alert,
    "situation_update": _situation_update,
    "message": _message,
    "request": _request,
    "shelter": _shelter,
    "transition": _transition,
}


@register_handler(INJECT_KIND)
def play_inject(deadline) -> None:
    """Play the inject of ``deadline`` once (see the module docstring).

    Runs in the engine's firing transaction. A domain refusal marks the inject failed (no
    retry); any other error propagates, so the engine retries the deadline later.
    """
    inject = (
        Inject.objects.select_for_update(of=("self",))
        .select_related("run", "run__crisis", "desk")
        .filter(pk=deadline.payload.get("inject_id"))
        .first()
    )
    if inject is None or inject.status != InjectStatus.SCHEDULED:
        return
    crisis = inject.run.crisis
    by = None
    try:
        with transaction.atomic():
            by = actor_for(inject.desk)
            outcome = PLAYERS[inject.type](inject, crisis, by)
    except DomainError as exc:
        inject.status = InjectStatus.FAILED
        inject.outcome = str(exc.message)
    else:
        inject.status = InjectStatus.PLAYED
        inject.outcome = str(outcome)
    inject.played_at = timezone.now()
    inject.save(update_fields=["status", "outcome", "played_at"])
    timeline.record(
        kind="exercise_inject",
        crisis=crisis,
        actor=by,
        desk=inject.desk,
        payload={
            "inject_id": inject.pk,
            "run_id": inject.run_id,
            "type": inject.type,
            "what": inject.what,
            "title": inject.what,  # the console's timeline line: "Exercise inject: <what>"
            "status": inject.status,
            "outcome": inject.outcome,
        },
    )
    announce_inject(inject)


def announce_inject(inject: Inject) -> None:
    """Tell the controller's open consoles that an inject changed (after commit)."""
    run = inject.run
    # Only to the controller: the players must not learn what is coming from it.
    publish_on_commit(
        user_group(run.started_by_id),
        {
            "type": "exercise.inject",
            "run_id": run.pk,
            "inject_id": inject.pk,
            "status": inject.status,
        },
    )
