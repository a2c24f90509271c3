import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from crisis.models import TimelineEntry
from crisis.services.timeline import verify_all
from humanitarian.models import (
    AssistanceRequest,
    DisplacementReport,
    ImportJob,
    Pledge,
    Reminder,
    Shelter,
    ShelterOccupancy,
    SituationReport,
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


def test_demo_records_have_admin_pages(client):
    call_command("seed_demo")
    check_admin_pages(client)


ADMIN_MODELS = [*MODELS[:-1], ImportJob, Reminder, SituationReport]


def check_admin_pages(client):
    from humanitarian.services.sitreps import post_situation_report

    post_situation_report(crisis_id=Shelter.objects.first().crisis_id)
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)
    for model in ADMIN_MODELS:
        name = model._meta.model_name
        response = client.get(f"/admin/humanitarian/{name}/")
        assert response.status_code == 200, name
        obj = model.objects.first()
        if obj is not None:
            response = client.get(f"/admin/humanitarian/{name}/{obj.pk}/change/")
            assert response.status_code == 200, name
    # Requests and pledges change only through the services.
    assert client.get("/admin/humanitarian/assistancerequest/add/").status_code == 403
