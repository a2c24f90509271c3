import pytest
from django.core.management import call_command

from crisis.models import TimelineEntry
from crisis.services.timeline import verify_all
from humanitarian.models import (
    AssistanceRequest,
    DisplacementReport,
    Pledge,
    Shelter,
    ShelterOccupancy,
    StandbyAsset,
)

pytestmark = pytest.mark.django_db

MODELS = [AssistanceRequest, Pledge, StandbyAsset, Shelter, ShelterOccupancy, DisplacementReport,
          TimelineEntry]  # fmt: skip


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_is_idempotent_and_tells_a_story(capsys):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first
    assert first["AssistanceRequest"] == 5 and first["StandbyAsset"] == 11
    assert first["Pledge"] == 5 and first["DisplacementReport"] == 3 and first["Shelter"] == 2
    statuses = set(Pledge.objects.values_list("status", flat=True))
    assert {"offered", "accepted", "dispatched", "delivered"} <= statuses
    assert TimelineEntry.objects.filter(kind__startswith="assistance.").exists()
    assert verify_all() == []
