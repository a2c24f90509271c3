"""Who is online: one row per open websocket connection, and a desk's last-seen time."""

from django.conf import settings
from django.db import models


class PresenceSession(models.Model):
    """An open connection of a desk's person. Deleted on disconnect; a crashed process
    leaves rows whose ``last_seen_at`` stops moving, so "online" means seen recently."""

    desk = models.ForeignKey("directory.Desk", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    connection = models.CharField(max_length=64)
    connected_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["desk_id", "connected_at"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "desk"], name="one_session_per_desk")
        ]
        indexes = [models.Index(fields=["desk", "last_seen_at"], name="hotline_presence_idx")]

    def __str__(self):
        return f"{self.user} on {self.desk} via {self.connection}"


class DeskPresence(models.Model):
    desk = models.OneToOneField("directory.Desk", on_delete=models.CASCADE, related_name="+")
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["desk_id"]

    def __str__(self):
        return f"{self.desk} last seen {self.last_seen_at:%Y-%m-%d %H:%M:%S}"
