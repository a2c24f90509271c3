"""After-action reviews: draft from the record, edit, publish. One transaction each.

Who: the lead desk's supervisors and the regional coordinators (``selectors.may_edit``),
acting for a desk that is party to the crisis (``crisis.services.steps``): everyone else
who may see the crisis is refused with 403 and the reason; who may not see it gets 404.
When: once the crisis is resolved or closed (a review follows the action). A published
review is read-only (409).

Publishing turns each action into a follow-up checklist task of the crisis
(``CrisisTask`` with ``party_role`` ``FOLLOW_UP_ROLE``, for the owner desk, due when the
action is due), appends ``review_published`` to the crisis's timeline and tells every
party desk (a notification each, pushed after commit).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.errors import Conflict, InvalidInput, PermissionDenied
from crisis.lifecycle import FINISHED_STATUSES, FOLLOW_UP_ROLE
from crisis.models import Crisis, CrisisTask, TimelineEntry
from crisis.services import timeline
from crisis.services.notifications import notify_desks
from crisis.services.steps import announce, begin_crisis_action
from directory.access import Access
from directory.models import Desk, DeskKind
from review.models import Review, ReviewAction, ReviewStatus
from review.performance import crisis_performance, duration_text
from review.selectors import may_edit

MAX_TEXT = 20_000
MAX_ACTIONS = 50
#: Follow-up tasks are numbered after any checklist item (``CrisisTask.item_order``).
TASK_ORDER_BASE = 1000
#: Timeline kinds a review's summary picks out as highlights.
HIGHLIGHT_KINDS = {
    "reported": _lazy("Reported"),
    "status_changed": _lazy("Status changed"),
    "level_entered": _lazy("Escalation level entered"),
    "level_expired": _lazy("Escalation level expired"),
    "acknowledged": _lazy("Acknowledged"),
    "unanswered": _lazy("Nobody acknowledged the top level"),
    "escalation_stopped": _lazy("Escalation stopped"),
    "severity_changed": _lazy("Severity changed"),
}


def _require_editor(access: Access, crisis: Crisis) -> None:
    if may_edit(access, crisis):
        return
    lead = crisis.lead_desk.code
    if access.is_member_of(crisis.lead_desk_id):
        message = _(
            "You are on %(lead)s but not its supervisor: a supervisor of the lead desk or the "
            "regional coordinator drafts, edits and publishes the review."
        ) % {"lead": lead}
    else:
        message = _(
            "Only the lead desk's supervisors (%(lead)s) and the regional coordinator draft, "
            "edit and publish the review; other parties read it once it is published."
        ) % {"lead": lead}
    raise PermissionDenied(message, code="not_review_editor")


def _begin(*, by, desk: Desk, crisis: Crisis | int) -> Crisis:
    access, crisis, _parties = begin_crisis_action(by=by, desk=desk, crisis=crisis)
    _require_editor(access, crisis)
    return crisis


def _locked_review(crisis: Crisis) -> Review:
    review = Review.objects.select_for_update().filter(crisis=crisis).first()
    if review is None:
        raise Conflict(_("Draft the review first."), code="no_review")
    if review.is_published:
        raise Conflict(_("A published review is read-only."), code="review_published")
    return review


# --- the generated summary ------------------------------------------------------------------


def generated_summary(crisis: Crisis) -> dict:
    """What the record says, for the reviewers to start from: timeline highlights, the
    performance figures and the late steps. Plain JSON; kept on the review as drafted."""
    figures = crisis_performance(crisis)
    highlights = [
        {
            "at": e.at.isoformat(),
            "kind": e.kind,
            "label": str(HIGHLIGHT_KINDS[e.kind]),
            "desk": e.desk.code if e.desk else None,
            "level": (e.payload or {}).get("level"),
            "to": (e.payload or {}).get("to"),
        }
        for e in TimelineEntry.objects.filter(crisis=crisis, kind__in=list(HIGHLIGHT_KINDS))
        .select_related("desk")
        .order_by("seq")[:200]
    ]
    return {"highlights": highlights, "performance": figures}


def summary_text(crisis: Crisis, generated: dict) -> str:
    """The draft's "what happened": the figures in sentences (the reviewers rewrite it)."""
    totals = generated["performance"]["totals"]
    lines = [
        _("%(ref)s “%(title)s”, led by %(lead)s.")
        % {"ref": crisis.reference, "title": crisis.title, "lead": crisis.lead_desk.code}
    ]
    if crisis.exercise:
        lines.append(_("This was an exercise."))
    lines.append(
        _("Escalation: %(levels)d level round(s) entered, %(taken)d taken because nobody "
          "acknowledged in time; first acknowledgement after %(first)s.")
        % {"levels": totals["levels_entered"], "taken": totals["escalations_taken"],
           "first": duration_text(totals["time_to_first_ack_seconds"])}
    )  # fmt: skip
    lines.append(
        _("Tasks: %(late)d of %(tasks)d late. Flash messages never acknowledged: %(unacked)d. "
          "Pledges: %(delivered)d of %(promised)d promised delivered.")
        % {"late": totals["tasks_late"], "tasks": totals["tasks"],
           "unacked": totals["messages_unacknowledged"],
           "delivered": totals["pledges_delivered"], "promised": totals["pledges_promised"]}
    )  # fmt: skip
    for step in generated["performance"]["late_steps"][:20]:
        lines.append(f"- {step['text']}")
    return "\n".join(lines)


# --- actions --------------------------------------------------------------------------------


def draft_review(*, by, desk: Desk, crisis: Crisis | int) -> Review:
    """Draft the review of a resolved or closed crisis from its record. One per crisis
    (409 if there is one). Records ``review_drafted`` on the crisis's timeline."""
    with transaction.atomic():
        crisis = _begin(by=by, desk=desk, crisis=crisis)
        if crisis.status not in FINISHED_STATUSES:
            raise Conflict(
                _("A review follows the crisis: resolve %(ref)s first.")
                % {"ref": crisis.reference},
                code="crisis_not_finished",
            )
        if Review.objects.filter(crisis=crisis).exists():
            raise Conflict(_("This crisis already has a review."), code="review_exists")
        generated = generated_summary(crisis)
        now = timezone.now()
        review = Review.objects.create(
            crisis=crisis,
            generated=generated,
            what_happened=summary_text(crisis, generated),
            drafted_by=by,
            drafted_at=now,
            updated_by=by,
            updated_at=now,
        )
        timeline.record(
            kind="review_drafted", crisis=crisis, actor=by, desk=desk,
            payload={"review_id": review.pk},
        )  # fmt: skip
    return review


def _text(value, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s must be text.") % {"field": field},
                           details={"field": field})  # fmt: skip
    if "\x00" in value:
        raise InvalidInput(_("%(field)s holds a NUL character.") % {"field": field},
                           details={"field": field})  # fmt: skip
    if len(value) > MAX_TEXT:
        raise InvalidInput(
            _("%(field)s is longer than %(max)d characters.") % {"field": field, "max": MAX_TEXT},
            details={"field": field},
        )
    return value.strip()


def owner_desks(crisis: Crisis):
    """Desks that may own an action: the crisis's parties and the regional centre."""
    return Desk.objects.filter(
        Q(participations__crisis=crisis) | Q(kind=DeskKind.REGIONAL) | Q(pk=crisis.lead_desk_id),
        is_active=True,
    ).distinct()


def _actions(crisis: Crisis, raw) -> list[dict]:
    """Check the actions' shape and owners (400 naming the action and field)."""
    if not isinstance(raw, list):
        raise InvalidInput(_("actions must be a list."), details={"field": "actions"})
    if len(raw) > MAX_ACTIONS:
        raise InvalidInput(
            _("At most %(max)d actions.") % {"max": MAX_ACTIONS}, details={"field": "actions"}
        )
    allowed = {d.code: d for d in owner_desks(crisis)}
    now = timezone.now()
    out = []
    for index, item in enumerate(raw):
        where = {"field": "actions", "index": index}
        if not isinstance(item, dict):
            raise InvalidInput(_("Each action is an object."), details=where)
        title = _text(item.get("title", ""), "title")[:200]
        if not title:
            raise InvalidInput(_("Action %(n)d needs a title.") % {"n": index + 1},
                               details={**where, "key": "title"})  # fmt: skip
        code = item.get("owner_desk")
        if not isinstance(code, str) or code not in allowed:
            raise InvalidInput(
                _("Action %(n)d: the owner desk must be a party to %(ref)s (or the regional "
                  "centre), by its code.") % {"n": index + 1, "ref": crisis.reference},
                details={**where, "key": "owner_desk"},
            )  # fmt: skip
        owner_desk = allowed[code]
        owner = None
        username = item.get("owner")
        if username not in (None, ""):
            owner = (
                get_user_model()
                .objects.filter(
                    username=username if isinstance(username, str) else "",
                    desk_memberships__desk=owner_desk,
                )
                .first()
            )
            if owner is None:
                raise InvalidInput(
                    _("Action %(n)d: the owner must be a person of desk %(desk)s.")
                    % {"n": index + 1, "desk": owner_desk.code},
                    details={**where, "key": "owner"},
                )
        due = item.get("due_at")
        due_at = parse_datetime(due) if isinstance(due, str) and len(due) < 64 else None
        if isinstance(due, datetime):
            due_at = due
        if due_at is None or timezone.is_naive(due_at):
            raise InvalidInput(
                _("Action %(n)d: due_at must be a date and time with its zone "
                  "(e.g. 2026-12-24T09:00:00Z).") % {"n": index + 1},
                details={**where, "key": "due_at"},
            )  # fmt: skip
        if due_at <= now:
            raise InvalidInput(
                _("Action %(n)d is due in the past.") % {"n": index + 1},
                details={**where, "key": "due_at"},
            )
        if due_at.year > 9000:
            raise InvalidInput(_("Action %(n)d is due too far ahead.") % {"n": index + 1},
                               details={**where, "key": "due_at"})  # fmt: skip
        out.append({"title": title, "owner_desk": owner_desk, "owner": owner, "due_at": due_at})
    return out


EDITABLE = ("what_happened", "went_well", "to_change")


def update_review(*, by, desk: Desk, crisis: Crisis | int, changes: dict) -> Review:
    """Edit a draft: any of what happened, what went well, what to change, and the
    actions (the whole list, replacing the one before). 409 once published."""
    if not isinstance(changes, dict):
        raise InvalidInput(_("The body must be a JSON object."))
    unknown = set(changes) - {*EDITABLE, "actions", "desk"}
    if unknown:
        raise InvalidInput(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(map(str, unknown)))},
            details={"fields": sorted(map(str, unknown))},
        )
    with transaction.atomic():
        crisis = _begin(by=by, desk=desk, crisis=crisis)
        review = _locked_review(crisis)
        for field in EDITABLE:
            if field in changes:
                setattr(review, field, _text(changes[field], field))
        if "actions" in changes:
            actions = _actions(crisis, changes["actions"])
            review.actions.all().delete()
            ReviewAction.objects.bulk_create(
                [ReviewAction(review=review, order=n, **a) for n, a in enumerate(actions, 1)]
            )
        review.updated_by = by
        review.updated_at = timezone.now()
        review.save()
    return review


def publish_review(*, by, desk: Desk, crisis: Crisis | int) -> Review:
    """Publish a draft to the parties: read-only from now on; each action becomes a
    follow-up task of its owner desk; ``review_published`` on the timeline; every party
    desk told. 409 if already published or if "what happened" is empty."""
    with transaction.atomic():
        crisis = _begin(by=by, desk=desk, crisis=crisis)
        review = _locked_review(crisis)
        if not review.what_happened.strip():
            raise Conflict(_("Say what happened before publishing."), code="review_incomplete")
        now = timezone.now()
        actions = list(review.actions.select_related("owner_desk", "owner"))
        for action in actions:
            owner = action.owner.username if action.owner else action.owner_desk.code
            action.task = CrisisTask.objects.create(
                crisis=crisis,
                desk=action.owner_desk,
                item_order=TASK_ORDER_BASE + action.order,
                party_role=FOLLOW_UP_ROLE,
                title=action.title,
                description=_("After-action review of %(ref)s; owner: %(owner)s.")
                % {"ref": crisis.reference, "owner": owner},
                due_at=action.due_at,
            )
            action.save(update_fields=["task"])
        review.status = ReviewStatus.PUBLISHED
        review.published_by = by
        review.published_at = now
        review.updated_by = by
        review.updated_at = now
        review.save()
        timeline.record(
            kind="review_published",
            crisis=crisis,
            actor=by,
            desk=desk,
            payload={"review_id": review.pk, "actions": len(actions),
                     "task_ids": [a.task_id for a in actions]},
        )  # fmt: skip
        parties = Desk.objects.filter(
            Q(participations__crisis=crisis) | Q(kind=DeskKind.REGIONAL), is_active=True
        ).distinct()
        notify_desks(
            desks=list(parties.order_by("code")),
            kind="review.published",
            title=_("%(ref)s: the after-action review is published") % {"ref": crisis.reference},
            crisis=crisis,
            payload={"review_id": review.pk},
            link_path=f"/crises/{crisis.pk}/review/",
        )
        announce(crisis, "review_published", review_id=review.pk)
    return review
