"""In-app notifications: what a desk's console lists as "needs your attention"."""

from django.db import models

from crisis.models.crises import Crisis
from directory.models import Desk


class Notification(models.Model):
    """One desk told one thing (an escalation level entered, a crisis left unanswered).

    Written in the same transaction as the change it announces; the live push over the
    channel layer is only a prompt, a console catches up from these rows.
    """

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="notifications")
    crisis = models.ForeignKey(
        Crisis, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=64, help_text="e.g. escalation.level, escalation.unanswered")
    title = models.CharField(max_length=300)
    payload = models.JSONField(default=dict, blank=True)
    roles = models.JSONField(
        default=list, blank=True, help_text="Roles on the desk that are asked to act."
    )
    link_path = models.CharField(
        max_length=300, blank=True, help_text="The console page it is about, e.g. /crises/12/."
    )
    page_subject = models.CharField(
        max_length=200, blank=True, help_text="Subject key of the page that went with it, if any."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["desk", "-created_at"], name="notification_desk_recent")]

    def __str__(self):
        return f"{self.desk}: {self.title}"
