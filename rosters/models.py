"""Duty rosters: each desk's shifts, overrides and handover notes.

A shift is written in the desk's own time zone (wall-clock date and time, like an
iCalendar ``DTSTART;TZID=...``) and repeats by an RFC 5545 ``RRULE``; an override is an
absolute interval in UTC ("I cover tonight") that replaces whoever the shifts put on duty.
Who is on duty at a moment is answered by one selector, ``rosters.selectors.on_duty``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from core.errors import InvalidInput
from directory.models import Desk
from rosters import rules
from rosters.rules import MAX_SHIFT_MINUTES


def _new_uid() -> str:
    return f"{uuid.uuid4()}@rosters"


class Roster(models.Model):
    """A desk's duty roster (one per desk)."""

    desk = models.OneToOneField(Desk, on_delete=models.CASCADE, related_name="roster")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["desk__code"]

    def __str__(self):
        return f"Roster of {self.desk.code}"


class Shift(models.Model):
    """A person's shift, once or repeating, in the desk's time zone."""

    roster = models.ForeignKey(Roster, on_delete=models.CASCADE, related_name="shifts")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roster_shifts"
    )
    first_date = models.DateField(help_text="Date of the first shift, in the desk's time zone.")
    start_time = models.TimeField(help_text="Wall-clock start, in the desk's time zone.")
    duration_minutes = models.PositiveIntegerField()
    rrule = models.CharField(
        "recurrence rule",
        max_length=255,
        blank=True,
        help_text="RFC 5545 RRULE without UNTIL, e.g. FREQ=WEEKLY;BYDAY=MO,WE. Blank: once.",
    )
    until = models.DateTimeField(
        null=True, blank=True, help_text="No shift starts after this moment (UTC)."
    )
    uid = models.CharField("iCalendar UID", max_length=255, default=_new_uid)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["roster", "first_date", "start_time", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1, duration_minutes__lte=MAX_SHIFT_MINUTES),
                name="shift_duration_one_minute_to_a_week",
            ),
            models.UniqueConstraint(fields=["roster", "uid"], name="shift_uid_unique_per_roster"),
        ]

    def __str__(self):
        return (
            f"{self.person} from {self.first_date} {self.start_time:%H:%M} {self.rrule or 'once'}"
        )

    def clean(self):
        # The admin edits shifts directly: the same rules as the services (rosters.rules).
        try:
            if self.roster_id and self.person_id:
                rules.require_on_desk(self.roster.desk, self.person)
            if self.rrule:
                self.rrule, until = rules.normalize_rrule(self.rrule)
                self.until = until or self.until
        except InvalidInput as exc:
            raise ValidationError(exc.message) from exc


class Override(models.Model):
    """Someone covers an interval: during it they alone are on duty ("I cover tonight")."""

    roster = models.ForeignKey(Roster, on_delete=models.CASCADE, related_name="overrides")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roster_overrides"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    uid = models.CharField("iCalendar UID", max_length=255, default=_new_uid)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["roster", "starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="override_ends_after_it_starts"
            ),
            models.UniqueConstraint(
                fields=["roster", "uid"], name="override_uid_unique_per_roster"
            ),
        ]
        indexes = [models.Index(fields=["roster", "ends_at"], name="override_roster_ends")]

    def __str__(self):
        return f"{self.person} covers {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%H:%M} UTC"

    def clean(self):
        try:
            if self.roster_id and self.person_id:
                rules.require_on_desk(self.roster.desk, self.person)
            if self.starts_at and self.ends_at:
                rules.check_interval(self.starts_at, self.ends_at)
        except InvalidInput as exc:
            raise ValidationError(exc.message) from exc


class HandoverNote(models.Model):
    """What the outgoing duty officer tells the next one."""

    roster = models.ForeignKey(Roster, on_delete=models.CASCADE, related_name="handover_notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handover_notes"
    )
    written_at = models.DateTimeField(auto_now_add=True)
    text = models.TextField(max_length=4000)
    shift_ending_at = models.DateTimeField(
        null=True, blank=True, help_text="The end of the shift this note hands over (UTC)."
    )

    class Meta:
        ordering = ["roster", "-written_at", "-id"]
        indexes = [models.Index(fields=["roster", "-written_at"], name="handover_roster_written")]

    def __str__(self):
        return f"Handover by {self.author} at {self.written_at:%Y-%m-%d %H:%M} UTC"
