"""After-action reviews: one per crisis (or exercise), drafted from the record, edited by
the lead desk's supervisors and the regional coordinator, published to the parties.

A published review is read-only (the service refuses edits; ``Meta`` holds the fields
that must go together). Its actions become checklist tasks of the crisis when it is
published (``ReviewAction.task``).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crisis.models import Crisis, CrisisTask
from directory.models import Desk


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Review(models.Model):
    crisis = models.OneToOneField(Crisis, on_delete=models.PROTECT, related_name="review")
    status = models.CharField(max_length=16, choices=ReviewStatus.choices, default="draft")
    what_happened = models.TextField(blank=True)
    went_well = models.TextField(blank=True)
    to_change = models.TextField(blank=True)
    #: What the record said when the review was drafted: timeline highlights, performance
    #: figures, late steps (``review.services.generated_summary``). Kept as drafted.
    generated = models.JSONField(default=dict, blank=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    drafted_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-drafted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft", published_at__isnull=True)
                | Q(status="published", published_at__isnull=False),
                name="review_published_has_time",
            )
        ]

    def __str__(self):
        return f"Review of {self.crisis.reference} ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == ReviewStatus.PUBLISHED


class ReviewAction(models.Model):
    """Something to change, owned by a desk (and a person of it), due by a date."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="actions")
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    owner_desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_at = models.DateTimeField()
    task = models.OneToOneField(
        CrisisTask, on_delete=models.PROTECT, null=True, blank=True, related_name="review_action"
    )

    class Meta:
        ordering = ["review", "order"]
        constraints = [
            models.UniqueConstraint(fields=["review", "order"], name="one_review_action_per_order")
        ]

    def __str__(self):
        return f"{self.title} ({self.owner_desk.code})"
