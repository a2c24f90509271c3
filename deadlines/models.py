"""Deadlines: one timed thing that must act once (escalation level, flash ack, line check).

A deadline is a row. The row, not the broker, is the truth: a Celery task is only a
prompt to look at it on time. See ``deadlines.services`` and docs/escalation.md.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DeadlineState(models.TextChoices):
    PENDING = "pending", _("Pending")
    FIRED = "fired", _("Fired")
    CANCELLED = "cancelled", _("Cancelled")


class Deadline(models.Model):
    kind = models.CharField(
        max_length=64, help_text="Which registered handler acts on it, e.g. crisis.escalation."
    )
    subject_key = models.CharField(
        max_length=200, help_text='What it is about, e.g. "crisis:12:level:2".'
    )
    due_at = models.DateTimeField()
    state = models.CharField(
        max_length=16, choices=DeadlineState.choices, default=DeadlineState.PENDING
    )
    token = models.UUIDField(
        default=uuid.uuid4, help_text="Regenerated on every re-arm; a task with another is stale."
    )
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a task was last handed to the broker for it."
    )
    fired_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Failed handler runs so far.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        db_table = "crisis_deadline"  # created under the crisis app; the name stays
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="deadline_state_due"),
            models.Index(fields=["subject_key", "state"], name="deadline_subject_state"),
            models.Index(fields=["-fired_at"], name="deadline_fired_recent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_key"],
                condition=Q(state="pending"),
                name="one_pending_deadline_per_kind_and_subject",
                violation_error_message="This subject already has a pending deadline of that kind.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(state="pending", fired_at__isnull=True, cancelled_at__isnull=True)
                    | Q(state="fired", fired_at__isnull=False)
                    | Q(state="cancelled", cancelled_at__isnull=False)
                ),
                name="deadline_state_matches_timestamps",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.subject_key} due {self.due_at:%Y-%m-%d %H:%M:%S} ({self.state})"

    @property
    def is_pending(self) -> bool:
        return self.state == DeadlineState.PENDING


class DeadlineProbe(models.Model):
    """One row per firing of a ``deadline.probe`` deadline: the engine's own canary.

    Deliberately without a unique constraint, so a double firing shows as two rows. Used
    by ``manage.py deadlines_status --probe``, the benchmark and the real-worker tests.
    """

    deadline_id = models.BigIntegerField(db_index=True)
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField()
    label = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "crisis_deadlineprobe"  # created under the crisis app; the name stays
        ordering = ["fired_at"]

    def __str__(self):
        return f"probe {self.deadline_id} fired {self.fired_at:%H:%M:%S.%f}"

    @property
    def lateness_seconds(self) -> float:
        return (self.fired_at - self.due_at).total_seconds()


class SweepHeartbeat(models.Model):
    """The last run of the safety sweep (one row per sweeper name)."""

    name = models.CharField(max_length=64, primary_key=True)
    swept_at = models.DateTimeField()
    enqueued = models.PositiveIntegerField(default=0)
    fired = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "crisis_sweepheartbeat"  # created under the crisis app; the name stays
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} at {self.swept_at:%H:%M:%S}"
