"""CAP feeds we poll (a national agency's Atom/RSS feed of CAP alerts), what their entries
became, and the triggers that let a new alert open a crisis under a protocol.

A feed's health is kept on its row, in words a coordinator reads (``last_error``) beside
the times, so nobody has to read a log to learn that a feed went quiet.
"""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crisis.models import CapAlert, Crisis, Protocol
from directory.models import Desk, MemberState

#: CAP 1.2 severities, least to most severe ("Unknown" is below them all).
SEVERITY_ORDER = ("Unknown", "Minor", "Moderate", "Severe", "Extreme")


class FeedStatus(models.TextChoices):
    OK = "ok", gettext_lazy("OK")
    FAILING = "failing", gettext_lazy("Failing")
    NOT_POLLED = "not_polled", gettext_lazy("Not polled yet")
    OFF = "off", gettext_lazy("Switched off")


class CapFeed(models.Model):
    """An Atom or RSS feed of CAP alerts published by one agency for one member state."""

    url = models.CharField(
        max_length=500,
        unique=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="The Atom or RSS address (http or https).",
    )
    agency = models.CharField(max_length=200, help_text="Who publishes it, e.g. 'TMD'.")
    state = models.ForeignKey(
        MemberState,
        on_delete=models.PROTECT,
        related_name="cap_feeds",
        help_text="The member state the agency speaks for.",
    )
    desk = models.ForeignKey(
        Desk,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The desk that leads crises this feed opens (empty: the state's first "
        "active desk).",
    )
    is_active = models.BooleanField(default=True)
    from_settings = models.BooleanField(
        default=False,
        editable=False,
        help_text="Kept in step with the CAP_FEEDS setting (deactivated when removed there).",
    )
    # Conditional GET: what the server said last time a poll went through completely.
    etag = models.CharField(max_length=500, blank=True, editable=False)
    last_modified = models.CharField(max_length=100, blank=True, editable=False)
    # Health.
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_result = models.TextField(blank=True, editable=False)
    failures = models.PositiveIntegerField(
        default=0, editable=False, help_text="Failed polls in a row."
    )
    next_poll_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Empty: at the next beat."
    )
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["state__code", "agency", "id"]
        verbose_name = "CAP feed"

    def __str__(self):
        return f"{self.agency} ({self.state.code}): {self.url}"

    def clean(self):
        if self.desk_id and self.state_id and self.desk.state_id != self.state_id:
            raise ValidationError({"desk": _("The desk must belong to the feed's member state.")})


class EntryOutcome(models.TextChoices):
    OPENED = "opened", gettext_lazy("Opened a crisis")
    ATTACHED = "attached", gettext_lazy("Attached to its crisis")
    DUPLICATE = "duplicate", gettext_lazy("Already received")
    UNMATCHED = "unmatched", gettext_lazy("No protocol trigger matched")
    REFUSED = "refused", gettext_lazy("Refused (not a usable CAP alert)")


class FeedEntry(models.Model):
    """One feed entry we have dealt with; it is not fetched again (a changed entry, with a
    new ``updated`` time, is a new row)."""

    feed = models.ForeignKey(CapFeed, on_delete=models.CASCADE, related_name="entries")
    key = models.CharField(max_length=64, help_text="sha256 of the entry's id, link, updated.")
    entry_id = models.CharField(max_length=500, blank=True)
    link = models.CharField(max_length=500)
    identifier = models.CharField(max_length=255, blank=True)
    sender = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=16, choices=EntryOutcome.choices)
    reason = models.TextField(blank=True)
    crisis = models.ForeignKey(
        Crisis, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    alert = models.ForeignKey(
        CapAlert, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-seen_at", "-id"]
        verbose_name = "CAP feed entry"
        verbose_name_plural = "CAP feed entries"
        constraints = [
            models.UniqueConstraint(fields=["feed", "key"], name="feed_entry_once_per_feed")
        ]

    def __str__(self):
        return f"{self.identifier or self.link}: {self.get_outcome_display()}"


class CapTrigger(models.Model):
    """When a new alert from a feed opens a crisis, and under which protocol.

    An alert matches when its event (or headline) contains one of ``event_words`` (none:
    any event), its severity is at least ``min_severity``, and it names (by ISO 3166-1
    alpha-3 geocode, or through its feed) one of ``states`` (none: any state). The crisis
    opens with the protocol's category, so activating it binds that protocol.
    """

    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="cap_triggers")
    event_words = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated words, any of which in the CAP event or headline "
        "matches (case does not matter), e.g. 'earthquake, tsunami'. Empty: any event.",
    )
    min_severity = models.CharField(
        max_length=16,
        choices=[(s, s) for s in SEVERITY_ORDER],
        default="Severe",
        help_text="The least CAP severity that opens a crisis.",
    )
    states = models.ManyToManyField(
        MemberState,
        blank=True,
        related_name="+",
        help_text="The alert must concern one of these states. Empty: any member state.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["protocol__name", "id"]
        verbose_name = "CAP trigger"

    def __str__(self):
        words = self.event_words or "any event"
        return f"{self.protocol}: {words}, {self.min_severity} or worse"

    @property
    def words(self) -> list[str]:
        return [w.strip().lower() for w in self.event_words.split(",") if w.strip()]
