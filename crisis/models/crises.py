"""Crises: reported by a desk, bound at activation to the published protocol version."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.tlp import TLP, label
from crisis.models.protocols import CrisisCategory, ParticipantRole, ProtocolVersion
from directory.models import Desk, MemberState


class Severity(models.IntegerChoices):
    MINOR = 1, _("Minor")
    MODERATE = 2, _("Moderate")
    SERIOUS = 3, _("Serious")
    SEVERE = 4, _("Severe")
    CATASTROPHIC = 5, _("Catastrophic")


class CrisisStatus(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ACTIVE = "active", _("Active")
    DE_ESCALATING = "de_escalating", _("De-escalating")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class EscalationState(models.TextChoices):
    """Where the escalation ladder stands (driven by the escalation engine)."""

    NOT_STARTED = "not_started", _("Not started")
    ESCALATING = "escalating", _("Waiting for acknowledgement")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    UNANSWERED = "unanswered", _("Unanswered at the top level")
    STOPPED = "stopped", _("Stopped by a supervisor")
    FINISHED = "finished", _("Finished (crisis resolved)")


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
    # A drill or a real crisis, from the moment it is reported and never changed later:
    # everything hanging off an exercise crisis (rooms, messages, pages, requests, CAP
    # alerts) is exercise traffic, marked as such wherever people read it.
    exercise = models.BooleanField(
        default=False,
        editable=False,
        help_text="An exercise (drill), not a real crisis. Set when reported; never changed.",
    )

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

    latest_update = models.ForeignKey(
        "SituationUpdate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

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


class CrisisTask(models.Model):
    """One checklist item of the bound protocol, for one participating desk."""

    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="tasks")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="crisis_tasks")
    item_order = models.PositiveSmallIntegerField(help_text="Order of the checklist item.")
    party_role = models.CharField(max_length=16)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    due_at = models.DateTimeField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_crisis_tasks",
        help_text="The person of the task's desk who sees to it; reminded when it is due.",
    )
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["crisis", "desk__code", "item_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["crisis", "desk", "item_order"], name="one_task_per_desk_and_item"
            ),
            models.CheckConstraint(
                condition=Q(done_at__isnull=True, done_by__isnull=True)
                | Q(done_at__isnull=False, done_by__isnull=False),
                name="task_done_at_and_done_by_together",
            ),
        ]

    def __str__(self):
        return f"{self.crisis.reference} {self.desk.code}: {self.title}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


#: A situation update's marking unless its author says otherwise: SASOP situation updates
#: go to every party and to the region's desks (CAP alerts quote them), so TLP:GREEN.
DEFAULT_UPDATE_TLP = TLP.GREEN


class SituationUpdate(models.Model):
    """A structured report by a participating desk (SASOP situation update, tactical report)."""

    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="situation_updates")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    conditions = models.TextField(help_text="What is the situation now.")
    actions = models.TextField(blank=True, help_text="What is being done.")
    needs = models.TextField(blank=True, help_text="What is needed, from whom.")
    tlp = models.CharField("TLP", max_length=12, choices=TLP.choices, default=DEFAULT_UPDATE_TLP)
    # Kept for narrow markings only (AMBER+STRICT, RED): the crisis's parties when posted.
    recipient_desks = models.ManyToManyField(Desk, related_name="+", blank=True)
    posted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["crisis", "-posted_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(tlp__in=TLP.values), name="update_tlp_known")
        ]

    def __str__(self):
        return (
            f"{self.crisis.reference} update by {self.desk.code} at {self.posted_at:%Y-%m-%d %H:%M}"
        )

    @property
    def tlp_label(self) -> str:
        return label(self.tlp)


class CapDirection(models.TextChoices):
    RECEIVED = "received", _("Received (intake)")
    ISSUED = "issued", _("Issued (export)")


class CapAlert(models.Model):
    """A CAP 1.2 alert that opened or updated a crisis, or that we issued about one.

    The document is kept byte for byte (``raw_xml``); the parsed fields are for reading.
    """

    direction = models.CharField(max_length=8, choices=CapDirection.choices)
    crisis = models.ForeignKey(Crisis, on_delete=models.PROTECT, related_name="cap_alerts")
    identifier = models.CharField(max_length=255)
    sender = models.CharField(max_length=255)
    sent_at = models.DateTimeField()
    status = models.CharField(max_length=16)
    msg_type = models.CharField(max_length=16)
    references = models.TextField(blank=True)
    parsed = models.JSONField(default=dict, blank=True)
    raw_xml = models.TextField()
    desk = models.ForeignKey(
        Desk, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The desk that posted a received alert.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["crisis", "sent_at", "id"]
        verbose_name = "CAP alert"
        constraints = [
            models.UniqueConstraint(
                fields=["direction", "sender", "identifier"], name="cap_alert_unique_per_sender"
            )
        ]

    def __str__(self):
        return f"CAP {self.msg_type} {self.identifier} ({self.direction})"


class ReferenceCounter(models.Model):
    """The last crisis reference number handed out per year (CR-2026-0007)."""

    year = models.PositiveSmallIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["year"]

    def __str__(self):
        return f"{self.year}: {self.last_number}"
