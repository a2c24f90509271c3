"""The standby-asset register: what each state can send at short notice (ASEAN SASOP)."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.models import Desk, MemberState
from humanitarian.models.catalogue import ITEM_CHOICES, Sector, Unit


class AssetKind(models.TextChoices):
    SAR_TEAM = "sar_team", _("Search and rescue team")
    MEDICAL_TEAM = "medical_team", _("Medical team")
    MILITARY_ASSET = "military_asset", _("Military asset")
    CIVILIAN_ASSET = "civilian_asset", _("Civilian transport asset")
    STOCKPILE = "stockpile", _("Relief-item stockpile")
    EXPERT = "expert", _("Expert")


class StandbyAsset(models.Model):
    state = models.ForeignKey(MemberState, on_delete=models.PROTECT, related_name="standby_assets")
    desk = models.ForeignKey(
        Desk, on_delete=models.PROTECT, related_name="+", help_text="Desk that deploys it."
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=AssetKind.choices)
    sector = models.CharField(max_length=16, choices=Sector.choices)
    item = models.CharField(max_length=40, choices=ITEM_CHOICES)
    unit = models.CharField(max_length=16, choices=Unit.choices)
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    readiness_hours = models.PositiveIntegerField(help_text="Hours from request to departure.")
    location = models.CharField(max_length=200, blank=True)
    is_available = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["state__code", "sector", "readiness_hours", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="asset_capacity_positive"),
            models.UniqueConstraint(fields=["state", "name"], name="asset_name_unique_per_state"),
        ]

    def __str__(self):
        return f"{self.name} ({self.state_id and self.state.code})"
