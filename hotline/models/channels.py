"""Hotline channels (lines), their member desks, and the channel's own trace."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    BILATERAL = "bilateral", _("Bilateral line (two states)")
    CRISIS_ROOM = "crisis_room", _("Multilateral crisis room")
    BROADCAST = "broadcast", _("Regional broadcast (all desks)")


class ChannelStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed (waiting for the other state)")
    ACTIVE = "active", _("Active")
    ARCHIVED = "archived", _("Archived (read-only)")


class LineStatus(models.TextChoices):
    UNKNOWN = "unknown", _("Not checked yet")
    OK = "ok", _("OK")
    DEGRADED = "degraded", _("Degraded (line check unanswered)")


class HotlineChannel(models.Model):
    """A line between desks. Messages on it are numbered 1, 2, 3 … without gaps.

    ``last_seq`` is the per-channel counter: a sender increments it with one
    ``UPDATE … RETURNING`` that also locks the row, so sequence numbers are assigned in
    the sending transaction, in commit order, and a rolled-back send leaves no gap.
    """

    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=ChannelStatus.choices, default=ChannelStatus.ACTIVE
    )
    last_seq = models.BigIntegerField(default=0)
    # A generic reference to the crisis a room was opened for (crisis.Crisis, once it
    # exists): kept as a plain reference so hotline does not block on it.
    crisis_ref = models.CharField(max_length=64, blank=True, db_index=True)
    # Drill traffic: copied once from the crisis named by ``crisis_ref`` when the room is
    # opened (the reference is loose, so it cannot be read through a key), and never
    # changed (a database trigger refuses it). Its messages derive their mark from it.
    exercise = models.BooleanField(
        default=False,
        editable=False,
        help_text="A room of an exercise crisis: all its traffic is drill traffic. Never changed.",
    )
    ack_deadline_seconds = models.PositiveIntegerField(
        default=300, help_text="How long a receiving desk has to acknowledge a flash message."
    )
    line_status = models.CharField(
        max_length=16, choices=LineStatus.choices, default=LineStatus.UNKNOWN
    )
    last_check_ok_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    proposed_by_desk = models.ForeignKey(
        "directory.Desk", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # People say "line"; the model keeps its name (and the API "channel").
        verbose_name = "line"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(last_seq__gte=0), name="channel_seq_not_negative"),
            models.CheckConstraint(
                condition=Q(status=ChannelStatus.ARCHIVED, archived_at__isnull=False)
                | (~Q(status=ChannelStatus.ARCHIVED) & Q(archived_at__isnull=True)),
                name="channel_archived_iff_archived_at",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind=ChannelKind.BROADCAST) & ~Q(status=ChannelStatus.ARCHIVED),
                name="one_open_broadcast_channel",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def is_writable(self) -> bool:
        return self.status == ChannelStatus.ACTIVE


class ChannelMember(models.Model):
    """A desk on a line. Removal keeps the row (``removed_at``): membership has a trace."""

    channel = models.ForeignKey(
        HotlineChannel, on_delete=models.CASCADE, related_name="members", verbose_name="line"
    )
    desk = models.ForeignKey("directory.Desk", on_delete=models.PROTECT, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    added_at = models.DateTimeField(auto_now_add=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "line member"
        ordering = ["channel_id", "desk__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "desk"],
                condition=Q(removed_at__isnull=True),
                name="one_current_membership_per_desk",
            )
        ]
        indexes = [models.Index(fields=["desk", "channel"], name="hotline_member_desk_idx")]

    def __str__(self):
        return f"{self.desk} on {self.channel}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the invited desk")
    ACCEPTED = "accepted", _("Accepted (the desk is a member)")
    DECLINED = "declined", _("Declined")


class RoomInvitation(models.Model):
    """A desk of another state invited to a crisis room by a national desk.

    Only the coordinator puts any desk in a room directly; a national desk's room has
    its own state's desks and the regional centre, and every other state's desk is
    *invited*: it becomes a member only when one of its people accepts.
    """

    channel = models.ForeignKey(
        HotlineChannel, on_delete=models.CASCADE, related_name="invitations", verbose_name="line"
    )
    desk = models.ForeignKey("directory.Desk", on_delete=models.PROTECT, related_name="+")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    invited_by_desk = models.ForeignKey(
        "directory.Desk", on_delete=models.PROTECT, related_name="+", null=True
    )
    invited_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "crisis room invitation"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "desk"],
                condition=Q(status="pending"),
                name="one_pending_invitation_per_desk",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", answered_at__isnull=True)
                | (~Q(status="pending") & Q(answered_at__isnull=False)),
                name="invitation_answered_iff_answered_at",
            ),
        ]

    def __str__(self):
        return f"{self.desk} invited to {self.channel} ({self.status})"


class ChannelEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    MEMBER_ADDED = "member_added", _("Member added")
    MEMBER_REMOVED = "member_removed", _("Member removed")
    INVITATION_DECLINED = "invitation_declined", _("Invitation declined")
    ARCHIVED = "archived", _("Archived")
    ESCALATED = "escalated", _("Flash acknowledgement escalated")
    LINE_CHECK_SENT = "line_check_sent", _("Line check sent")
    LINE_CHECK_PASSED = "line_check_passed", _("Line check passed")
    LINE_CHECK_FAILED = "line_check_failed", _("Line check failed: line degraded")


class ChannelEvent(models.Model):
    """Append-only trace of what happened to a line (membership, state, escalation)."""

    channel = models.ForeignKey(
        HotlineChannel, on_delete=models.CASCADE, related_name="events", verbose_name="line"
    )
    kind = models.CharField(max_length=32, choices=ChannelEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    desk = models.ForeignKey(
        "directory.Desk", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "line event"
        ordering = ["id"]

    def __str__(self):
        return f"{self.channel_id}: {self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"
