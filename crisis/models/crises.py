"""Crises: reported by a desk, bound at activation to the published protocol version."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from crisis.models.directory import Desk, MemberState
from crisis.models.protocols import CrisisCategory, ParticipantRole, ProtocolVersion


class Severity(models.IntegerChoices):
    MINOR = 1, "Minor"
    MODERATE = 2, "Moderate"
    SERIOUS = 3, "Serious"
    SEVERE = 4, "Severe"
    CATASTROPHIC = 5, "Catastrophic"


class CrisisStatus(models.TextChoices):
    REPORTED = "reported", "Reported"
    ACTIVE = "active", "Active"
    DE_ESCALATING = "de_escalating", "De-escalating"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


class EscalationState(models.TextChoices):
    """Where the escalation ladder stands (driven by the escalation engine)."""

    NOT_STARTED = "not_started", "Not started"
    ESCALATING = "escalating", "Waiting for acknowledgement"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    UNANSWERED = "unanswered", "Unanswered at the top level"
    STOPPED = "stopped", "Stopped by a supervisor"
    FINISHED = "finished", "Finished (crisis resolved)"


class Crisis(models.Model):
    reference = models.CharField(max_length=32, unique=True, help_text="e.g. CR-2026-0007")
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=CrisisCategory.choices)
    severity = models.PositiveSmallIntegerField(
        choices=Severity.choices, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    status = models.CharField(
        max_length=16, choices=CrisisStatus.choices, default=CrisisStatus.REPORTED
    )
    description = models.TextField(blank=True)

    reported_by_desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lead_desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    affected_states = models.ManyToManyField(MemberState, related_name="crises")
    desks = models.ManyToManyField(Desk, through="CrisisParticipant", related_name="crises")

    latitude = models.DecimalField(
        max_digits=8, decimal_places=5, null=True, blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )  # fmt: skip
    longitude = models.DecimalField(
        max_digits=8, decimal_places=5, null=True, blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )  # fmt: skip
    admin_area = models.CharField(
        max_length=120, blank=True, help_text="ISO 3166-2 code and/or name, e.g. TH-82 Phang Nga"
    )

    # Bound at activation: a published (so immutable) version, plus a copy of its ladder.
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="crises"
    )
    protocol_snapshot = models.JSONField(default=dict, blank=True)

    escalation_state = models.CharField(
        max_length=16, choices=EscalationState.choices, default=EscalationState.NOT_STARTED
    )
    current_level = models.PositiveSmallIntegerField(null=True, blank=True)
    level_entered_at = models.DateTimeField(null=True, blank=True)
    level_deadline_at = models.DateTimeField(null=True, blank=True)
    level_repeats = models.PositiveSmallIntegerField(default=0)

    reported_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name_plural = "crises"
        indexes = [models.Index(fields=["status", "severity"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__gte=1, severity__lte=5), name="crisis_severity_1_to_5"
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="crisis_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="crisis_longitude_range",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    @property
    def timeline_stream(self) -> str:
        return f"crisis:{self.pk}"


class CrisisParticipant(models.Model):
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="participants")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="participations")
    role = models.CharField(max_length=16, choices=ParticipantRole.choices)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["crisis", "role", "desk__code"]
        constraints = [
            models.UniqueConstraint(fields=["crisis", "desk"], name="one_participation_per_desk"),
            models.UniqueConstraint(
                fields=["crisis"], condition=Q(role="lead"), name="one_lead_desk_per_crisis"
            ),
        ]

    def __str__(self):
        return f"{self.desk} ({self.role}) in {self.crisis.reference}"


class EscalationAck(models.Model):
    """A desk acknowledged a crisis at an escalation level (one per desk, level, round)."""

    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="acknowledgements")
    level = models.PositiveSmallIntegerField()
    round = models.PositiveSmallIntegerField(default=0, help_text="Repeat round of the level.")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["crisis", "acknowledged_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["crisis", "level", "round", "desk"], name="one_ack_per_desk_level_round"
            )
        ]

    def __str__(self):
        return f"{self.desk} acked {self.crisis.reference} L{self.level}"
