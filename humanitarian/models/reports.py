"""Reminders already sent (so none is sent twice) and daily situation reports."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crisis.models import Crisis
from humanitarian.models.assistance import AssistanceRequest, Pledge


class ReminderKind(models.TextChoices):
    PLEDGE_PAST_ETA = "pledge_past_eta", _("Pledge past its ETA")
    NEED_PAST_DUE = "need_past_due", _("Need past its needed-by time")


class Reminder(models.Model):
    """A reminder that was sent. The unique constraints make sending idempotent: the same
    lateness (same ETA or needed-by time) is reminded once; a new ETA may be reminded again."""

    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    pledge = models.ForeignKey(
        Pledge, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    request = models.ForeignKey(
        AssistanceRequest,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    due_at = models.DateTimeField(help_text="The ETA or needed-by time that passed.")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "pledge", "due_at"],
                condition=Q(pledge__isnull=False),
                name="one_reminder_per_pledge_eta",
            ),
            models.UniqueConstraint(
                fields=["kind", "request", "due_at"],
                condition=Q(request__isnull=False),
                name="one_reminder_per_request_due",
            ),
            models.CheckConstraint(
                condition=Q(pledge__isnull=False) | Q(request__isnull=False),
                name="reminder_has_subject",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.pledge_id or self.request_id} at {self.sent_at}"


class SituationReport(models.Model):
    """The daily humanitarian situation report of an active crisis (one per day)."""

    crisis = models.ForeignKey(Crisis, on_delete=models.PROTECT, related_name="situation_reports")
    report_date = models.DateField()
    content = models.JSONField(default=dict)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["crisis", "-report_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["crisis", "report_date"], name="one_sitrep_per_crisis_and_day"
            )
        ]

    def __str__(self):
        return f"SitRep {self.crisis.reference} {self.report_date}"
