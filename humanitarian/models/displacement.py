"""Displacement figures in the shape IOM's Displacement Tracking Matrix (DTM) publishes,
and the CSV import jobs that bring them in."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crisis.models import Crisis
from directory.models import Desk


class AssessmentType(models.TextChoices):
    BASELINE = "baseline", _("Baseline (admin-area) assessment")
    SITE = "site", _("Site assessment")
    FLOW = "flow", _("Flow monitoring")
    REGISTRATION = "registration", _("Registration")
    OTHER = "other", _("Other")


class DisplacementReport(models.Model):
    crisis = models.ForeignKey(Crisis, on_delete=models.PROTECT, related_name="displacement")
    country_code = models.CharField(max_length=3, help_text="ISO 3166-1 alpha-3")
    country_name = models.CharField(max_length=100)
    admin1_code = models.CharField(max_length=20)
    admin1_name = models.CharField(max_length=120)
    admin2_code = models.CharField(max_length=20, blank=True)
    admin2_name = models.CharField(max_length=120, blank=True)
    reported_on = models.DateField()
    round = models.PositiveIntegerField(help_text="DTM round number")
    assessment_type = models.CharField(
        max_length=16, choices=AssessmentType.choices, default=AssessmentType.BASELINE
    )
    idps = models.PositiveIntegerField(help_text="Internally displaced persons (individuals)")
    refugees = models.PositiveIntegerField(help_text="Refugees (individuals)")
    source = models.CharField(max_length=200)
    reported_by_desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    import_job = models.ForeignKey(
        "humanitarian.ImportJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["crisis", "-reported_on", "country_code", "admin1_code", "admin2_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["crisis", "country_code", "admin1_code", "admin2_code", "round"],
                name="one_figure_per_area_and_round",
            ),
            models.CheckConstraint(
                condition=Q(country_code__regex=r"^[A-Z]{3}$"), name="displacement_country_iso3"
            ),
        ]

    def __str__(self):
        return f"{self.country_code} {self.admin1_name} {self.admin2_name} R{self.round}"

    @property
    def total_displaced(self) -> int:
        return self.idps + self.refugees


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed (nothing written)")


class ImportJob(models.Model):
    """A CSV import: the file, how far validation got, and the row-by-row report."""

    crisis = models.ForeignKey(Crisis, on_delete=models.PROTECT, related_name="+")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(max_length=200, blank=True)
    content = models.TextField(help_text="The uploaded CSV text.")
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{row, column, message}]")
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task was last handed to the broker."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(
        default=0, help_text="Runs started (a run killed mid-way is retried once)."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="importjob_status_created")]

    def __str__(self):
        return f"import #{self.pk} {self.filename} ({self.status})"

    @property
    def readable_errors(self) -> list[dict]:
        """The report with each ``message`` in the active language: a problem keeps its
        words to say (``say``, a msgid) and their ``params`` beside the English
        ``message`` (``humanitarian.services.displacement.said``). One stored before that,
        or whose translation lost a placeholder, reads as stored."""
        readable = []
        for error in self.errors or []:
            error = dict(error)
            words, params = error.pop("say", None), error.pop("params", None)
            if words:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    error["message"] = gettext(words) % (params or {})
            readable.append(error)
        return readable

    @property
    def progress_percent(self) -> int:
        if self.status == ImportStatus.SUCCEEDED:
            return 100
        if not self.total_rows:
            return 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))
