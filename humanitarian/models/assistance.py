"""Assistance requests and the pledges (offers) made against them.

Names follow OASIS EDXL-RM's resource messaging so an adapter can map one to one (see
docs/humanitarian.md): a request is a RequestResource; a pledge is a
ResponseToRequestResource (or an OfferUnsolicitedResource when it has no request);
acceptance is a CommitResource; dispatch a ReleaseResource; delivery a
ReportResourceDeploymentStatus.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crisis.models import Crisis
from directory.models import Desk, MemberState
from humanitarian.models.catalogue import ITEM_CHOICES, Sector, Unit


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical (life-saving)")


class RequestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    PARTIALLY_PLEDGED = "partially_pledged", _("Partially pledged")
    FULLY_PLEDGED = "fully_pledged", _("Fully pledged")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


#: Statuses in which a request takes offers and acceptances.
LIVE_REQUEST_STATUSES = frozenset(
    {RequestStatus.OPEN, RequestStatus.PARTIALLY_PLEDGED, RequestStatus.FULLY_PLEDGED}
)


class AssistanceRequest(models.Model):
    """A need posted by an affected state's desk for a crisis (EDXL-RM RequestResource)."""

    crisis = models.ForeignKey(Crisis, on_delete=models.PROTECT, related_name="assistance_requests")
    state = models.ForeignKey(MemberState, on_delete=models.PROTECT, related_name="+")
    requesting_desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sector = models.CharField(max_length=16, choices=Sector.choices)
    item = models.CharField(max_length=40, choices=ITEM_CHOICES)
    unit = models.CharField(max_length=16, choices=Unit.choices)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    location = models.CharField(max_length=200, blank=True)
    admin1_code = models.CharField(max_length=20, blank=True, help_text="ISO 3166-2, e.g. TH-82")
    admin1_name = models.CharField(max_length=120, blank=True)
    needed_by = models.DateTimeField()
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    notes = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.DRAFT
    )
    # Kept in step under the request's row lock by the services (never over-committed).
    quantity_accepted = models.PositiveIntegerField(default=0)
    quantity_delivered = models.PositiveIntegerField(default=0)
    surplus_accepted = models.BooleanField(
        default=False, help_text="The requester explicitly accepted more than was asked."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["crisis", "sector", "status"]),
            models.Index(fields=["status", "needed_by"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="request_quantity_positive"),
            models.CheckConstraint(
                condition=Q(surplus_accepted=True) | Q(quantity_accepted__lte=F("quantity")),
                name="request_never_over_committed",
                violation_error_message="Accepted pledges exceed the quantity requested.",
            ),
        ]

    #: What a request's reference starts with: ``REQ-12``.
    REFERENCE_PREFIX = "REQ"

    def __str__(self):
        return f"{self.reference} {self.quantity} {self.unit} {self.item}"

    @property
    def reference(self) -> str:
        return f"{self.REFERENCE_PREFIX}-{self.pk}"

    @property
    def quantity_remaining(self) -> int:
        return max(self.quantity - self.quantity_accepted, 0)


class PledgeStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    DISPATCHED = "dispatched", _("Dispatched")
    DELIVERED = "delivered", _("Delivered")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: Pledges whose accepted quantity counts against the request.
COMMITTED_PLEDGE_STATUSES = frozenset(
    {PledgeStatus.ACCEPTED, PledgeStatus.DISPATCHED, PledgeStatus.DELIVERED}
)


class Pledge(models.Model):
    """An offer of assistance, against a request or standalone (unsolicited).

    A standalone offer (``request`` empty) is capacity a requester can claim: claiming
    creates an accepted pledge against the request (``source_offer`` points back) and
    lowers the offer's ``quantity_available``.
    """

    crisis = models.ForeignKey(Crisis, on_delete=models.PROTECT, related_name="pledges")
    request = models.ForeignKey(
        AssistanceRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="pledges"
    )
    pledging_desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    state = models.ForeignKey(
        MemberState,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the regional coordination centre pledges.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sector = models.CharField(max_length=16, choices=Sector.choices)
    item = models.CharField(max_length=40, choices=ITEM_CHOICES)
    unit = models.CharField(max_length=16, choices=Unit.choices)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    quantity_available = models.PositiveIntegerField(
        default=0, help_text="Standalone offers: what can still be claimed."
    )
    quantity_accepted = models.PositiveIntegerField(default=0)
    quantity_received = models.PositiveIntegerField(null=True, blank=True)
    eta = models.DateTimeField(null=True, blank=True, help_text="Expected arrival.")
    conditions = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=PledgeStatus.choices, default=PledgeStatus.OFFERED
    )
    source_asset = models.ForeignKey(
        "humanitarian.StandbyAsset",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pledges",
    )
    source_offer = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True, help_text="Why declined or withdrawn.")
    offered_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Declined or withdrawn.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-offered_at", "-id"]
        indexes = [
            models.Index(fields=["crisis", "sector", "status"]),
            models.Index(fields=["status", "eta"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="pledge_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_accepted__lte=F("quantity")),
                name="pledge_accepted_within_offer",
            ),
            models.CheckConstraint(
                condition=Q(quantity_available__lte=F("quantity")),
                name="pledge_available_within_offer",
            ),
        ]

    #: What a pledge's reference starts with: ``PLG-34``.
    REFERENCE_PREFIX = "PLG"

    def __str__(self):
        return f"{self.reference} {self.quantity} {self.unit} {self.item} ({self.status})"

    @property
    def reference(self) -> str:
        return f"{self.REFERENCE_PREFIX}-{self.pk}"

    @property
    def is_standalone(self) -> bool:
        return self.request_id is None
