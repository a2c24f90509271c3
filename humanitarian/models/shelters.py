"""Shelter sites and their occupancy over time."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crisis.models import Crisis
from directory.models import Desk, MemberState


class ShelterStatus(models.TextChoices):
    OPEN = "open", _("Open")
    FULL = "full", _("Full")
    CLOSED = "closed", _("Closed")


class ShelterService(models.TextChoices):
    WATER = "water", _("Drinking water")
    SANITATION = "sanitation", _("Sanitation")
    FOOD = "food", _("Food distribution")
    HEALTH = "health", _("Health post")
    ELECTRICITY = "electricity", _("Electricity")
    CHILD_FRIENDLY = "child_friendly", _("Child-friendly space")
    REGISTRATION = "registration", _("Registration desk")


class Shelter(models.Model):
    crisis = models.ForeignKey(Crisis, on_delete=models.PROTECT, related_name="shelters")
    name = models.CharField(max_length=200)
    country = models.ForeignKey(MemberState, on_delete=models.PROTECT, related_name="+")
    managing_state = models.ForeignKey(MemberState, on_delete=models.PROTECT, related_name="+")
    managing_desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    location = models.CharField(max_length=200, blank=True)
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    admin1_code = models.CharField(max_length=20, blank=True)
    admin1_name = models.CharField(max_length=120, blank=True)
    admin2_code = models.CharField(max_length=20, blank=True)
    admin2_name = models.CharField(max_length=120, blank=True)
    capacity = models.PositiveIntegerField()
    population = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=8, choices=ShelterStatus.choices, default=ShelterStatus.OPEN
    )
    services = models.JSONField(default=list, blank=True, help_text="Codes of services offered.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["crisis", "name"]
        constraints = [
            models.UniqueConstraint(fields=["crisis", "name"], name="shelter_name_unique_in_crisis")
        ]

    def __str__(self):
        return self.name


class ShelterOccupancy(models.Model):
    """One reading of a shelter's population and status (append-only history)."""

    shelter = models.ForeignKey(Shelter, on_delete=models.CASCADE, related_name="occupancy")
    population = models.PositiveIntegerField()
    capacity = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=ShelterStatus.choices)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["shelter", "recorded_at", "id"]
        verbose_name_plural = "shelter occupancy readings"
        indexes = [models.Index(fields=["shelter", "recorded_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(population__gte=0), name="occupancy_population_not_negative"
            )
        ]

    def __str__(self):
        return (
            f"{self.shelter} {self.population}/{self.capacity} at {self.recorded_at:%Y-%m-%d %H:%M}"
        )
