"""Reads of reviews and performance, scoped to the caller. Views start here.

- A crisis's performance and its published review: everyone who may see the crisis
  (its parties, coordinators, auditors: ``crisis.selectors.crises_visible_to``).
- A draft review: its editors (the lead desk's people, coordinators) and auditors; to
  everyone else a draft looks like no review at all (404), as hidden and missing do.
- A desk's performance over time: the desk's own people, its state's other desks,
  and whoever reads across states (coordinators, auditors); others get 403 with the reason
  (desks are public in the directory, so their existence is no secret).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.errors import InvalidInput, NotFound, PermissionDenied
from crisis.models import Crisis
from crisis.selectors import crises_visible_to
from directory.access import Access
from directory.models import Desk, Role
from review.models import Review
from review.performance import EXERCISE_CHOICES, MAX_PERIODS, PERIODS, crisis_performance


def visible_crisis(access: Access, crisis_id) -> Crisis:
    """The crisis if the caller may know it exists; 404 otherwise (hidden = missing)."""
    crisis = (
        crises_visible_to(access).filter(pk=crisis_id).select_related("lead_desk").first()
        if access.is_authenticated
        else None
    )
    if crisis is None:
        raise NotFound(_("No such crisis."), details={"crisis": crisis_id})
    return crisis


def may_edit(access: Access, crisis: Crisis) -> bool:
    """The lead desk's supervisors and the regional coordinators edit and publish."""
    return access.is_coordinator or access.role_on(crisis.lead_desk_id) == Role.SUPERVISOR


def may_read_draft(access: Access, crisis: Crisis) -> bool:
    return (
        may_edit(access, crisis) or access.is_member_of(crisis.lead_desk_id) or (access.is_auditor)
    )


def review_of(access: Access, crisis: Crisis) -> Review | None:
    """The crisis's review as the caller may read it (a draft only for its editors)."""
    review = (
        Review.objects.filter(crisis=crisis)
        .select_related("crisis", "drafted_by", "updated_by", "published_by")
        .prefetch_related("actions__owner_desk", "actions__owner", "actions__task")
        .first()
    )
    if review is None or (not review.is_published and not may_read_draft(access, crisis)):
        return None
    return review


def require_review(access: Access, crisis: Crisis) -> Review:
    review = review_of(access, crisis)
    if review is None:
        raise NotFound(
            _("No review of crisis %(ref)s yet.") % {"ref": crisis.reference},
            code="no_review",
            details={"crisis": crisis.pk},
        )
    return review


def desk_for_performance(access: Access, code: str) -> Desk:
    """The desk named ``code`` if the caller may read its figures: 404 if there is no such
    desk, 403 (with the reason) if it is another state's and the caller reads only their own.
    """
    desk = Desk.objects.filter(code=code).select_related("state").first()
    if desk is None or not access.is_authenticated:
        raise NotFound(_("No such desk."), details={"desk": code})
    if (
        access.sees_all_states
        or access.is_member_of(desk)
        or (desk.state_id is not None and desk.state_id in access.state_ids)
    ):
        return desk
    raise PermissionDenied(
        _("Only the people of %(state)s's desks, coordinators and auditors read the figures "
          "of desk %(desk)s.") % {"state": desk.state.code if desk.state else desk.code,
                                  "desk": desk.code},
        code="not_your_desk",
    )  # fmt: skip


def period_options(params) -> dict:
    """``period``, ``periods`` and ``exercises`` from query parameters, checked (400)."""
    period = params.get("period") or "quarter"
    if period not in PERIODS:
        raise InvalidInput(
            _("period must be one of: %(choices)s.") % {"choices": ", ".join(PERIODS)},
            details={"field": "period"},
        )
    exercises = params.get("exercises") or "exclude"
    if exercises not in EXERCISE_CHOICES:
        raise InvalidInput(
            _("exercises must be one of: %(choices)s.") % {"choices": ", ".join(EXERCISE_CHOICES)},
            details={"field": "exercises"},
        )
    raw = params.get("periods") or ("4" if period == "quarter" else "6")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PERIODS:
        raise InvalidInput(
            _("periods must be a whole number from 1 to %(max)d.") % {"max": MAX_PERIODS},
            details={"field": "periods"},
        )
    return {"period": period, "periods": int(raw), "exercises": exercises}


def review_data(review: Review | None) -> dict | None:
    """A review as plain JSON (the API's shape and the record export's)."""
    if review is None:
        return None
    return {
        "id": review.pk,
        "crisis": review.crisis_id,
        "status": review.status,
        "what_happened": review.what_happened,
        "went_well": review.went_well,
        "to_change": review.to_change,
        "actions": [
            {
                "order": a.order,
                "title": a.title,
                "owner_desk": a.owner_desk.code,
                "owner": a.owner.username if a.owner else None,
                "due_at": a.due_at.isoformat(),
                "task_id": a.task_id,
                "done_at": a.task.done_at.isoformat() if a.task and a.task.done_at else None,
            }
            for a in review.actions.all()
        ],
        "generated": review.generated,
        "drafted_by": review.drafted_by.username,
        "drafted_at": review.drafted_at.isoformat(),
        "updated_by": review.updated_by.username,
        "updated_at": review.updated_at.isoformat(),
        "published_by": review.published_by.username if review.published_by else None,
        "published_at": review.published_at.isoformat() if review.published_at else None,
    }


def review_for(crisis: Crisis, access: Access | None = None) -> dict:
    """The crisis's review and its performance figures, as plain JSON, for the record
    export (``records``). With ``access``, a draft is left out for someone who may not read
    drafts (:func:`may_read_draft`): the record holds what its exporter may read.
    """
    review = (
        Review.objects.filter(crisis=crisis)
        .select_related("drafted_by", "updated_by", "published_by")
        .prefetch_related("actions__owner_desk", "actions__owner", "actions__task")
        .first()
    )
    if review is not None and not review.is_published and access is not None:
        review = review if may_read_draft(access, crisis) else None
    return {"review": review_data(review), "performance": crisis_performance(crisis)}
