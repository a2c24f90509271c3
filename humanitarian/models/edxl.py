"""EDXL-RM messages received from partners' systems, and what each one became."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from directory.models import Desk
from humanitarian.models.assistance import AssistanceRequest, Pledge


class ReceivedRMMessage(models.Model):
    """One EDXL-RM message imported here (its MessageID is never imported twice).

    Links the partner's message id to the request or pledge it made or changed, so a later
    reply that names that id (``PrecedingMessageID``) finds the record.
    """

    message_id = models.CharField(max_length=255, unique=True)
    message_type = models.CharField(max_length=40)
    sender = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField()
    request = models.ForeignKey(
        AssistanceRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pledge = models.ForeignKey(
        Pledge, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.message_type} {self.message_id}"
