"""Reads scoped to the caller. Views and services start here, never from ``Model.objects``.

Rules: the coordination centre and auditors see everything; a state sees its own
records (drafts included) and, for crises it is party to (reported, affected,
participating — :func:`crisis.selectors.crises_visible_to`), every published need,
pledge, shelter and displacement figure. Anything else is hidden (404 at the edge).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from core.errors import NotFound
from crisis.selectors import crises_visible_to
from directory.access import Access
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
        raise NotFound("No such crisis.", details={"crisis": crisis_id})
    return crisis
