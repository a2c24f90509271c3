"""One row per sensitive read. Never edited, never deleted (the model refuses it, and on
PostgreSQL a trigger refuses UPDATE and DELETE, see migration 0002)."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    pass


class ReadRecord(models.Model):
    """Who read what, when, in which role, for which desk.

    ``username`` and ``roles`` are copied at the time of the read, so the record still says
    who it was and what they could do after memberships change.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    roles = models.CharField(max_length=200, blank=True, help_text="The reader's desk roles.")
    # A string reference: the audit app imports only core (docs/architecture.md).
    desk = models.ForeignKey(
        "directory.Desk", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    what = models.CharField(max_length=64, help_text="What was read, e.g. hotline.transcript.")
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_read_object_idx"),
            models.Index(fields=["user", "at"], name="audit_read_user_idx"),
        ]

    def __str__(self):
        who = self.username or "someone"
        return f"{who} read {self.object_type} {self.object_id} ({self.what})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Read records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Read records are append-only.")
