"""Reads scoped to the caller. Views and services start here, never from ``Model.objects``.

Rules: the coordination centre and auditors see everything; a state sees its own
records (drafts included) and, for crises it is party to (reported, affected,
participating — :func:`crisis.selectors.crises_visible_to`), every published need,
pledge, shelter and displacement figure. Anything else is hidden (404 at the edge).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound
from crisis.models import Crisis
from crisis.selectors import crises_visible_to
from directory.access import Access
from directory.models import Desk
from humanitarian.models import (
    AssistanceRequest,
    DisplacementReport,
    ImportJob,
    Pledge,
    RequestStatus,
    Shelter,
    ShelterOccupancy,
    SituationReport,
    StandbyAsset,
)
from humanitarian.rules import may_pledge


def _crisis_ids(access: Access):
    return crises_visible_to(access).order_by().values("pk")


def requests_visible_to(access: Access) -> QuerySet[AssistanceRequest]:
    if not access.is_authenticated:
        return AssistanceRequest.objects.none()
    qs = AssistanceRequest.objects.select_related("crisis", "state", "requesting_desk")
    if access.sees_all_states:
        return qs
    return qs.filter(
        Q(state_id__in=access.state_ids)
        | (Q(crisis_id__in=_crisis_ids(access)) & ~Q(status=RequestStatus.DRAFT))
    )


def pledges_visible_to(access: Access) -> QuerySet[Pledge]:
    if not access.is_authenticated:
        return Pledge.objects.none()
    qs = Pledge.objects.select_related(
        "crisis", "state", "pledging_desk", "request", "request__state"
    )
    if access.sees_all_states:
        return qs
    return qs.filter(
        Q(state_id__in=access.state_ids)
        | Q(pledging_desk_id__in=access.desk_ids)
        | Q(crisis_id__in=_crisis_ids(access))
    )


def standby_assets_visible_to(access: Access) -> QuerySet[StandbyAsset]:
    """The standby register is shared across the region (it exists to be drawn on)."""
    if not access.is_authenticated:
        return StandbyAsset.objects.none()
    return StandbyAsset.objects.select_related("state", "desk")


def shelters_visible_to(access: Access) -> QuerySet[Shelter]:
    if not access.is_authenticated:
        return Shelter.objects.none()
    qs = Shelter.objects.select_related("crisis", "country", "managing_state", "managing_desk")
    if access.sees_all_states:
        return qs
    return qs.filter(
        Q(managing_state_id__in=access.state_ids) | Q(crisis_id__in=_crisis_ids(access))
    )


def occupancy_visible_to(access: Access, shelter: Shelter) -> QuerySet[ShelterOccupancy]:
    return ShelterOccupancy.objects.filter(shelter=shelter).order_by("recorded_at", "id")


def displacement_visible_to(access: Access) -> QuerySet[DisplacementReport]:
    if not access.is_authenticated:
        return DisplacementReport.objects.none()
    qs = DisplacementReport.objects.select_related("crisis", "reported_by_desk")
    if access.sees_all_states:
        return qs
    return qs.filter(crisis_id__in=_crisis_ids(access))


def import_jobs_visible_to(access: Access) -> QuerySet[ImportJob]:
    if not access.is_authenticated:
        return ImportJob.objects.none()
    qs = ImportJob.objects.select_related("crisis", "desk").defer("content")
    if access.sees_all_states:
        return qs
    return qs.filter(desk_id__in=access.desk_ids)


def situation_reports_visible_to(access: Access) -> QuerySet[SituationReport]:
    if not access.is_authenticated:
        return SituationReport.objects.none()
    qs = SituationReport.objects.select_related("crisis")
    if access.sees_all_states:
        return qs
    return qs.filter(crisis_id__in=_crisis_ids(access))


def visible_crisis(access: Access, crisis_id: int):
    """The crisis if the caller may know it exists; NotFound otherwise."""
    crisis = crises_visible_to(access).filter(pk=crisis_id).first()
    if crisis is None:
        raise NotFound(_("No such crisis."), details={"crisis": crisis_id})
    return crisis


# --- standby suggestions ------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    asset: StandbyAsset
    item_matches: bool
    covers_remaining: bool
    suggested_quantity: int
    ready_at: datetime


def suggest_standby_assets(
    *, access: Access, request: AssistanceRequest, limit: int = 20
) -> list[Suggestion]:
    """Available assets of *other* states for the request's sector, best first.

    Order: the exact item before other items of the sector, then assets that can cover
    everything still open, then the shortest readiness time, then the largest capacity.
    """
    return standby_suggestions(access, [request], limit=limit)[request.pk]


def standby_suggestions(
    access: Access, requests: Iterable[AssistanceRequest], *, limit: int = 20
) -> dict[int, list[Suggestion]]:
    """:func:`suggest_standby_assets` for several requests (by id), in one query.

    The register is small (what states hold at short notice), so every available asset
    of the requests' sectors is read once and ranked per request here.
    """
    requests = list(requests)
    if not requests:
        return {}
    assets = list(
        standby_assets_visible_to(access).filter(
            sector__in={r.sector for r in requests}, is_available=True
        )
    )
    now = timezone.now()
    found = {}
    for req in requests:
        remaining = max(req.quantity_remaining, 1)
        fitting = sorted(
            (a for a in assets if a.sector == req.sector and a.state_id != req.state_id),
            key=lambda a, req=req, remaining=remaining: (
                a.item != req.item,
                a.capacity < remaining,
                a.readiness_hours,
                -a.capacity,
                a.state.code,
                a.pk,
            ),
        )
        found[req.pk] = [
            Suggestion(
                asset=asset,
                item_matches=asset.item == req.item,
                covers_remaining=asset.capacity >= remaining,
                suggested_quantity=min(asset.capacity, remaining),
                ready_at=now + timedelta(hours=asset.readiness_hours),
            )
            for asset in fitting[:limit]
        ]
    return found


# --- the console's aid board ------------------------------------------------------------

SUGGESTIONS_PER_REQUEST = 3
LATEST_DISPLACEMENT_REPORTS = 15


@dataclass(frozen=True)
class BoardRow:
    request: AssistanceRequest
    is_mine: bool  # the desk's own state asked: it decides on the pledges
    pledges: list[Pledge]  # oldest first
    can_pledge: bool  # humanitarian.rules.may_pledge says yes for the desk
    suggestions: list[Suggestion]  # only where the desk can pledge


@dataclass(frozen=True)
class AidBoard:
    crisis: Crisis
    rows: list[BoardRow]  # published requests, most urgent first
    shelters: list[Shelter]  # each with its occupancy readings prefetched, oldest first
    displacement_reports: list[DisplacementReport]  # the latest few, newest first
    displacement_latest: date | None  # the last reporting date
    displacement_totals: dict  # idps, refugees and areas on that date
    job: ImportJob | None  # the import the page follows, if the caller may see it
    can_write: bool  # the desk writes (imports), the caller being on it in a writing role
    may_request: bool  # the desk's state is affected: it may ask for assistance


def aid_board(
    access: Access, *, desk: Desk | None, crisis_id: int, import_job_id: int | None = None
) -> AidBoard:
    """Everything the humanitarian board of a crisis shows the caller working for ``desk``.

    NotFound if the caller may not see the crisis. Every read is scoped to the caller
    (the selectors above); the number of queries does not grow with the rows.
    """
    crisis = visible_crisis(access, crisis_id)
    requests = list(
        requests_visible_to(access)
        .filter(crisis=crisis)
        .exclude(status=RequestStatus.DRAFT)
        .order_by("-priority", "needed_by", "pk")
    )
    pledges: dict[int, list[Pledge]] = {}
    for pledge in (
        pledges_visible_to(access)
        .filter(crisis=crisis, request__in=[r.pk for r in requests])
        .order_by("offered_at", "pk")
    ):
        pledges.setdefault(pledge.request_id, []).append(pledge)
    may = {r.pk: bool(may_pledge(access, desk, r)) for r in requests}
    suggestions = standby_suggestions(
        access, [r for r in requests if may[r.pk]], limit=SUGGESTIONS_PER_REQUEST
    )
    my_state = desk.state_id if desk else None
    rows = [
        BoardRow(
            request=r,
            is_mine=my_state is not None and r.state_id == my_state,
            pledges=pledges.get(r.pk, []),
            can_pledge=may[r.pk],
            suggestions=suggestions.get(r.pk, []),
        )
        for r in requests
    ]
    shelters = list(
        shelters_visible_to(access)
        .filter(crisis=crisis)
        .prefetch_related(
            Prefetch("occupancy", queryset=ShelterOccupancy.objects.order_by("recorded_at", "id"))
        )
        .order_by("name")
    )
    displacement = displacement_visible_to(access).filter(crisis=crisis)
    latest = displacement.aggregate(latest=Max("reported_on"))["latest"]
    totals = (
        displacement.filter(reported_on=latest).aggregate(
            idps=Sum("idps"), refugees=Sum("refugees"), areas=Count("pk")
        )
        if latest
        else {}
    )
    job = (
        import_jobs_visible_to(access).filter(pk=import_job_id, crisis=crisis).first()
        if import_job_id is not None
        else None
    )
    can_write = desk is not None and access.can_act_for(desk)
    return AidBoard(
        crisis=crisis,
        rows=rows,
        shelters=shelters,
        displacement_reports=list(
            displacement.order_by("-reported_on", "country_code", "admin1_code")[
                :LATEST_DISPLACEMENT_REPORTS
            ]
        ),
        displacement_latest=latest,
        displacement_totals=totals,
        job=job,
        can_write=can_write,
        may_request=can_write
        and desk.state_id is not None
        and crisis.affected_states.filter(pk=desk.state_id).exists(),
    )
