"""Shelter sites and their occupancy readings."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput, NotFound
from crisis.models import Crisis
from crisis.services import timeline
from directory.access import access_for
from directory.models import Desk
from humanitarian.models import Shelter, ShelterOccupancy, ShelterService, ShelterStatus
from humanitarian.selectors import shelters_visible_to, visible_crisis
from humanitarian.services._common import announce, desk_acting_for_state, require_working_crisis


def _check_services(services: list[str]) -> list[str]:
    valid = set(ShelterService.values)
    unknown = [s for s in services if s not in valid]
    if unknown:
        raise InvalidInput(
            _("Unknown shelter services: %(unknown)s.") % {"unknown": ", ".join(unknown)},
            details={"fields": {"services": [f"choose from {sorted(valid)}"]}},
        )
    return sorted(set(services))


def _reading(shelter: Shelter, by) -> ShelterOccupancy:
    return ShelterOccupancy.objects.create(
        shelter=shelter,
        population=shelter.population,
        capacity=shelter.capacity,
        status=shelter.status,
        recorded_at=timezone.now(),
        recorded_by=by,
    )


def register_shelter(
    *,
    by,
    desk: Desk,
    crisis: Crisis,
    name: str,
    capacity: int,
    population: int = 0,
    location: str = "",
    latitude=None,
    longitude=None,
    admin1_code: str = "",
    admin1_name: str = "",
    admin2_code: str = "",
    admin2_name: str = "",
    services: list[str] | None = None,
) -> Shelter:
    """A state's desk registers a shelter site it manages (in its own country)."""
    access = access_for(by)
    with transaction.atomic():
        crisis = visible_crisis(access, crisis.pk)
        access.require_act_for(desk)
        require_working_crisis(crisis)
        if desk.state_id is None:
            raise InvalidInput(_("A shelter is managed by a member state's desk."), code="no_state")
        if capacity is None or capacity < 1 or population is None or population < 0:
            raise InvalidInput(
                _("Capacity must be at least 1 and population 0 or more."),
                details={"fields": {"capacity": ["min 1"], "population": ["min 0"]}},
            )
        if Shelter.objects.filter(crisis=crisis, name=name).exists():
            raise InvalidInput(
                _("A shelter named %(name)s is already registered for this crisis.")
                % {"name": repr(name)},
                code="duplicate",
                details={"fields": {"name": ["already used in this crisis"]}},
            )
        shelter = Shelter.objects.create(
            crisis=crisis,
            name=name,
            country=desk.state,
            managing_state=desk.state,
            managing_desk=desk,
            capacity=capacity,
            population=population,
            status=ShelterStatus.FULL if population >= capacity else ShelterStatus.OPEN,
            location=location,
            latitude=latitude,
            longitude=longitude,
            admin1_code=admin1_code,
            admin1_name=admin1_name,
            admin2_code=admin2_code,
            admin2_name=admin2_name,
            services=_check_services(services or []),
        )
        _reading(shelter, by)
        timeline.record(
            kind="shelter.registered",
            crisis=crisis,
            actor=by,
            desk=desk,
            payload={"shelter_id": shelter.pk, "name": name, "capacity": capacity,
                     "population": population},
        )  # fmt: skip
        announce(crisis, {"type": "shelter.registered", "shelter_id": shelter.pk}, desk)
    return shelter


def update_shelter(
    *,
    by,
    shelter_id: int,
    population: int | None = None,
    capacity: int | None = None,
    status: str | None = None,
    services: list[str] | None = None,
) -> Shelter:
    """The managing state records a new reading (population, capacity, status, services).

    Every update adds an occupancy reading, so occupancy over time can be drawn. Status
    follows population unless given: full at capacity, open below it; closed stays closed
    until reopened explicitly.
    """
    access = access_for(by)
    with transaction.atomic():
        if not shelters_visible_to(access).filter(pk=shelter_id).exists():
            raise NotFound(_("No such shelter."), details={"shelter": shelter_id})
        shelter = (
            Shelter.objects.select_for_update(of=("self",))
            .select_related("crisis")
            .get(pk=shelter_id)
        )
        desk = desk_acting_for_state(access, shelter.managing_state_id, what="update this shelter")
        if population is not None:
            if population < 0:
                raise InvalidInput(
                    _("Population is 0 or more."), details={"fields": {"population": ["min 0"]}}
                )
            shelter.population = population
        if capacity is not None:
            if capacity < 1:
                raise InvalidInput(
                    _("Capacity is at least 1."), details={"fields": {"capacity": ["min 1"]}}
                )
            shelter.capacity = capacity
        if services is not None:
            shelter.services = _check_services(services)
        if status is not None:
            if status not in ShelterStatus.values:
                raise InvalidInput(
                    _("Unknown status %(status)s.") % {"status": repr(status)},
                    details={"fields": {"status": [f"one of {ShelterStatus.values}"]}},
                )
            shelter.status = status
        elif shelter.status != ShelterStatus.CLOSED:
            full = shelter.population >= shelter.capacity
            shelter.status = ShelterStatus.FULL if full else ShelterStatus.OPEN
        shelter.save()
        reading = _reading(shelter, by)
        timeline.record(
            kind="shelter.updated",
            crisis=shelter.crisis,
            actor=by,
            desk=desk,
            payload={"shelter_id": shelter.pk, "population": shelter.population,
                     "capacity": shelter.capacity, "status": shelter.status,
                     "reading_id": reading.pk},
        )  # fmt: skip
        announce(
            shelter.crisis,
            {"type": "shelter.updated", "shelter_id": shelter.pk, "status": shelter.status},
            desk,
        )
    return shelter
