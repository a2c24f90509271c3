"""Exercises: scenario files uploaded by controllers, runs of a scenario, and their injects.

A run plays one scenario against one exercise crisis it opened. Each inject of the run is
a row here *and* a deadline of the engine (kind ``exercise.inject``) while it waits: the
deadline is the alarm clock, this row is what the controller reads (and what the handler
checks, under a lock, before it plays anything).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from exercises.scenario import format_offset


class Scenario(models.Model):
    """A scenario file uploaded through the API (the shipped demo ones stay files)."""

    key = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    source = models.TextField(help_text=_("The YAML file as uploaded, verbatim."))
    lead_desk = models.ForeignKey("directory.Desk", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


class ExerciseRun(models.Model):
    """One play of a scenario. ``source`` is the file as it was at the start: editing or
    deleting the scenario later changes nothing of a run."""

    scenario_key = models.CharField(max_length=80)
    scenario_name = models.CharField(max_length=200)
    source = models.TextField()
    crisis = models.OneToOneField(
        "crisis.Crisis", on_delete=models.PROTECT, related_name="exercise_run"
    )
    lead_desk = models.ForeignKey("directory.Desk", on_delete=models.PROTECT, related_name="+")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    controller_desk = models.ForeignKey(
        "directory.Desk", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    speed = models.PositiveSmallIntegerField(
        default=1, help_text=_("Scenario seconds per real second (1: real time).")
    )
    started_at = models.DateTimeField()
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.FloatField(default=0, help_text=_("Total time spent paused."))
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(speed__gte=1, speed__lte=600), name="exercise_run_speed_range"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="running", paused_at__isnull=True)
                    | Q(status="paused", paused_at__isnull=False)
                    | Q(status="ended", ended_at__isnull=False)
                ),
                name="exercise_run_status_matches_times",
            ),
        ]

    def __str__(self):
        return f"{self.scenario_name} ({self.get_status_display()})"


class InjectStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held (run paused)")
    PLAYED = "played", _("Played")
    FAILED = "failed", _("Failed")
    WITHDRAWN = "withdrawn", _("Withdrawn (run ended)")


class Inject(models.Model):
    run = models.ForeignKey(ExerciseRun, on_delete=models.CASCADE, related_name="injects")
    at_seconds = models.PositiveIntegerField(help_text=_("Scenario time after the start."))
    type = models.CharField(max_length=32)
    desk = models.ForeignKey("directory.Desk", on_delete=models.PROTECT, related_name="+")
    what = models.CharField(max_length=200)
    fields = models.JSONField(default=dict, blank=True)
    line = models.PositiveIntegerField(default=0, help_text=_("Line in the scenario file."))
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=InjectStatus.choices, default=InjectStatus.SCHEDULED
    )
    played_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True, help_text=_("What it did, or why it failed."))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Who added it live (empty: from the scenario file)."),
    )

    class Meta:
        ordering = ["due_at", "at_seconds", "id"]
        indexes = [models.Index(fields=["run", "status"], name="inject_run_status")]

    def __str__(self):
        return f"{self.what} ({self.get_status_display()})"

    @property
    def subject_key(self) -> str:
        return subject_key(self.pk)

    @property
    def offset(self) -> str:
        """Its scenario time as the files write it (``T+5 min``)."""
        return format_offset(self.at_seconds)


def subject_key(inject_id: int) -> str:
    """The deadline subject of an inject (kind ``exercise.inject``)."""
    return f"exercise-inject:{inject_id}"
