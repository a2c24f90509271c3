"""Messages (a record: never edited, never deleted) and per-desk receipts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _

from core.tlp import TLP, label

#: A hotline message's marking unless the sender says otherwise: lines are between
#: governments, so what is said stays with the line's desks' organisations and those
#: who need to know (TLP:AMBER), never public and never region-wide by default.
DEFAULT_MESSAGE_TLP = TLP.AMBER

#: Longest message body, in characters (frames are limited to 64 KiB anyway).
MAX_BODY_CHARS = 16_000


class Priority(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")
    FLASH = "flash", _("Flash (every receiving desk must acknowledge)")


class MessageKind(models.TextChoices):
    TEXT = "text", _("Text")
    LINE_CHECK = "line_check", _("Line check")


class Message(models.Model):
    channel = models.ForeignKey(
        "hotline.HotlineChannel",
        on_delete=models.PROTECT,
        related_name="messages",
        verbose_name="line",
    )
    seq = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=MessageKind.choices, default=MessageKind.TEXT)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    # Empty for system messages (line checks).
    sender_desk = models.ForeignKey(
        "directory.Desk", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    body = models.TextField()
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.ROUTINE)
    client_msg_id = models.UUIDField()
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="corrections", null=True, blank=True
    )
    tlp = models.CharField("TLP", max_length=12, choices=TLP.choices, default=DEFAULT_MESSAGE_TLP)
    # Kept for narrow markings only (AMBER+STRICT, RED): the line's desks when it was sent.
    recipient_desks = models.ManyToManyField("directory.Desk", related_name="+", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(
                fields=["channel", "client_msg_id"], name="message_client_id_unique"
            ),
            models.CheckConstraint(condition=Q(seq__gte=1), name="message_seq_positive"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), MAX_BODY_CHARS),
                name="message_body_size_limit",
            ),
            models.CheckConstraint(condition=Q(tlp__in=TLP.values), name="message_tlp_known"),
        ]
        indexes = [
            # Flash messages are few among many: the flash messages a desk has not
            # acknowledged (on every console page, and each line's count) are read from
            # this small index instead of every message of every line (docs/performance.md).
            models.Index(
                fields=["channel", "created_at"],
                condition=Q(priority="flash"),
                name="message_flash_by_line",
            ),
        ]

    def __str__(self):
        return f"#{self.seq} on line {self.channel_id}"

    @property
    def tlp_label(self) -> str:
        return label(self.tlp)


class Receipt(models.Model):
    """What a receiving desk did with a message: delivered, read, acknowledged (who, when).

    Created on the first of these; each step also implies the ones before it.
    """

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="receipts")
    desk = models.ForeignKey("directory.Desk", on_delete=models.PROTECT, related_name="+")
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["message_id", "desk_id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "desk"], name="one_receipt_per_desk"),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(read_at__isnull=False),
                name="receipt_ack_implies_read",
            ),
            models.CheckConstraint(
                condition=Q(read_at__isnull=True) | Q(delivered_at__isnull=False),
                name="receipt_read_implies_delivered",
            ),
        ]

    def __str__(self):
        return f"receipt of {self.desk_id} for message {self.message_id}"
