"""Paging: how people are reached when nobody is looking at a console.

- :class:`ContactMethod` — a way to reach one person (e-mail, or an E.164 number for SMS
  and voice). Never paged until verified with a one-time code sent by that method.
- :class:`NotificationRule` — a person's own rules (urgency → method kind, delay); people
  without rules for an urgency follow their role's default (``PAGING_DEFAULT_RULES``).
- :class:`PagingPreference` — a person's quiet hours (in their desk's zone; never for
  flash or escalation) and the language they read (the console, e-mails, SMS texts).
- :class:`Page` — one page of one desk about one subject (idempotent per desk and
  subject key); :class:`PageRecipient` — a person paged, with their single-use ack link;
  :class:`DeliveryAttempt` — one send by one method (or to one desk webhook), armed on
  the deadline engine, with its outcome; :class:`DeliveryTry` — the log of every try.
- :class:`DeskWebhook` — a desk's own system, told of its pages by signed HTTP posts
  (Standard Webhooks).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.templatetags.console import format_duration


class Urgency(models.TextChoices):
    FLASH = "flash", _("Flash")
    ESCALATION = "escalation", _("Escalation")
    URGENT = "urgent", _("Urgent")
    ROUTINE = "routine", _("Routine")


#: Urgencies that quiet hours never hold back.
LOUD_URGENCIES = frozenset({Urgency.FLASH, Urgency.ESCALATION})


class ContactKind(models.TextChoices):
    # Only kinds whose transport is configured are offered (paging.transports.offered_kinds).
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice call")


class ContactMethod(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods"
    )
    kind = models.CharField(max_length=16, choices=ContactKind.choices)
    address = models.CharField(
        max_length=254, help_text="An e-mail address (or, for phone kinds, E.164: +66…)."
    )
    label = models.CharField(max_length=64, blank=True)
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Lower first: the order in which methods are tried."
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    code_hash = models.CharField(max_length=128, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "address"],
                name="one_contact_method_per_user_kind_address",
                violation_error_message="You already have this contact method.",
            )
        ]

    def __str__(self):
        state = "verified" if self.verified_at else "not verified"
        return f"{self.get_kind_display()} {self.address} ({state})"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class NotificationRule(models.Model):
    """One of a person's own rules: for ``urgency``, notify by ``kind`` after ``delay``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules"
    )
    urgency = models.CharField(max_length=16, choices=Urgency.choices)
    kind = models.CharField(max_length=16, choices=ContactKind.choices)
    delay_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["user_id", "urgency", "delay_seconds", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "urgency", "kind", "delay_seconds"], name="one_rule_per_step"
            )
        ]

    def __str__(self):
        return (
            f"{self.get_urgency_display()}: {self.get_kind_display()} "
            f"after {format_duration(self.delay_seconds)}"
        )


class PagingPreference(models.Model):
    """Quiet hours, in the zone of the desk that pages (urgent and routine wait them out);
    the person's language."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="paging_preference"
    )
    quiet_from = models.TimeField(null=True, blank=True)
    quiet_until = models.TimeField(null=True, blank=True)
    # One of settings.LANGUAGES; "" = never chosen (the browser's language, else English).
    language = models.CharField(
        max_length=16,
        blank=True,
        default="",
        choices=settings.LANGUAGES,
        help_text="The language of the console, e-mails and SMS texts for this person.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_from__isnull=True, quiet_until__isnull=True)
                | Q(quiet_from__isnull=False, quiet_until__isnull=False),
                name="quiet_hours_both_or_neither",
            )
        ]

    def __str__(self):
        if self.quiet_from is None:
            return "no quiet hours"
        return f"quiet {self.quiet_from:%H:%M} to {self.quiet_until:%H:%M}"


class PageState(models.TextChoices):
    OPEN = "open", _("Waiting for acknowledgement")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")


class Page(models.Model):
    desk = models.ForeignKey("directory.Desk", on_delete=models.CASCADE, related_name="pages")
    urgency = models.CharField(max_length=16, choices=Urgency.choices)
    kind = models.CharField(max_length=64, help_text="Whose ack handler acts, e.g. crisis.level.")
    subject_key = models.CharField(max_length=200)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    link_path = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=PageState.choices, default=PageState.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_reason = models.CharField(max_length=200, blank=True)
    # Drill traffic (a page about an exercise crisis or an exercise line): said by the
    # caller when paging (paging knows no crisis), never changed (a database trigger).
    # Every e-mail, SMS, call and webhook of it says so first.
    exercise = models.BooleanField(
        default=False,
        editable=False,
        help_text=(
            "A page of an exercise (drill): marked EXERCISE EXERCISE EXERCISE. Never changed."
        ),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject_key", "state"], name="page_subject_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["desk", "subject_key"], name="one_page_per_desk_subject"
            )
        ]

    def __str__(self):
        return f"{self.title} ({self.get_state_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.state == PageState.OPEN


class PageRecipient(models.Model):
    """A person a page reaches, and the state of their single-use ack link."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    link_nonce = models.UUIDField(default=uuid.uuid4, editable=False)
    link_used_at = models.DateTimeField(null=True, blank=True)
    #: Sent in every SMS and call of this page to this person: replying with it by SMS
    #: acknowledges (unique among the person's pages that are open when it is drawn).
    reply_code = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["page_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["page", "user"], name="one_recipient_per_page_user")
        ]

    def __str__(self):
        return f"{self.user} for {self.page}"


class AttemptState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class DeliveryAttempt(models.Model):
    """One message to one person by one method (or one event to a desk webhook); armed as
    a ``paging.attempt`` deadline."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="attempts")
    recipient = models.ForeignKey(
        PageRecipient, on_delete=models.CASCADE, null=True, blank=True, related_name="attempts"
    )
    webhook = models.ForeignKey(
        "DeskWebhook", on_delete=models.SET_NULL, null=True, blank=True, related_name="attempts"
    )
    #: A webhook event's body, fixed when it is queued so every retry sends the same bytes.
    payload = models.JSONField(default=dict, blank=True)
    method = models.ForeignKey(
        ContactMethod, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=16, blank=True)
    address = models.CharField(max_length=254, blank=True)
    delay_seconds = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField()
    state = models.CharField(
        max_length=16, choices=AttemptState.choices, default=AttemptState.QUEUED
    )
    tries = models.PositiveSmallIntegerField(default=0)
    message_id = models.CharField(max_length=200, blank=True)
    sending_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    #: The provider's id for the message or call (Twilio's ``sid``), for its receipts.
    provider_id = models.CharField(max_length=64, blank=True, db_index=True)
    provider_status = models.CharField(max_length=32, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failed_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["page_id", "due_at", "id"]
        indexes = [models.Index(fields=["page", "state"], name="attempt_page_state")]

    def __str__(self):
        return f"{self.kind} to {self.address or '(nobody)'}: {self.get_state_display().lower()}"

    @property
    def deadline_subject(self) -> str:
        return f"paging:attempt:{self.pk}"


class DeliveryTry(models.Model):
    """One try of an attempt, as it went: when, how long, the HTTP status (for HTTP
    transports), the outcome and the reason. Written for every try, never changed."""

    class Outcome(models.TextChoices):
        SENT = "sent", _("Sent")
        RETRY = "retry", _("Failed, will retry")
        FAILED = "failed", _("Failed")
        RECEIPT = "receipt", _("Provider receipt")

    attempt = models.ForeignKey(DeliveryAttempt, on_delete=models.CASCADE, related_name="tries_log")
    try_no = models.PositiveSmallIntegerField(default=0)
    at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["attempt_id", "at", "id"]

    def __str__(self):
        code = f" {self.status_code}" if self.status_code else ""
        return f"try {self.try_no} of attempt {self.attempt_id}:{code} {self.outcome}"


class DeskWebhook(models.Model):
    """A desk's own system, told of the desk's pages (opened, acknowledged, closed) by
    HTTP POSTs signed per Standard Webhooks with ``secret`` (shown once, at creation)."""

    desk = models.ForeignKey("directory.Desk", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100, editable=False)
    is_active = models.BooleanField(default=True)
    #: Which pages are posted, by urgency (empty: all).
    urgencies = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["desk_id", "id"]

    def __str__(self):
        return f"{self.desk} → {self.url}"

    def wants(self, urgency: str) -> bool:
        return self.is_active and (not self.urgencies or urgency in self.urgencies)
