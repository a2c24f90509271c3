"""Scheduled line checks: a test message every member desk must acknowledge in time."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LineCheckStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for acknowledgements")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed (line degraded)")


class LineCheck(models.Model):
    channel = models.ForeignKey(
        "hotline.HotlineChannel",
        on_delete=models.CASCADE,
        related_name="line_checks",
        verbose_name="line",
    )
    message = models.OneToOneField(
        "hotline.Message", on_delete=models.PROTECT, related_name="line_check"
    )
    status = models.CharField(
        max_length=16, choices=LineCheckStatus.choices, default=LineCheckStatus.PENDING
    )
    sent_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    missing_desk_ids = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel"],
                condition=models.Q(status="pending"),
                name="one_pending_line_check_per_channel",
            )
        ]

    def __str__(self):
        return f"line check of {self.channel_id} ({self.status})"
