"""Crisis protocols: what happens, for one kind of crisis, who is told and when.

A protocol has versions. A draft is edited; publishing freezes it (a published version is
never changed again, so a running crisis bound to it is a snapshot); a newer published
version retires the previous one. Exactly one version per protocol is published.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict
from directory.models import Desk


class VersionImmutable(Conflict):
    """A published or retired version (its ladder and checklist too) never changes."""

    code = "version_immutable"


class CrisisCategory(models.TextChoices):
    MARITIME = "maritime", _("Maritime incident")
    EARTHQUAKE = "earthquake", _("Earthquake / tsunami")
    FLOOD = "flood", _("Flood")
    STORM = "storm", _("Tropical storm / typhoon")
    VOLCANO = "volcano", _("Volcanic eruption")
    PANDEMIC = "pandemic", _("Epidemic / pandemic")
    CYBER = "cyber", _("Cross-border cyber attack")
    BORDER = "border", _("Border incident")
    REFUGEE = "refugee", _("Refugee influx")
    OTHER = "other", _("Other")


class Protocol(models.Model):
    name = models.CharField(max_length=200, unique=True)
    category = models.CharField(max_length=32, choices=CrisisCategory.choices)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [("author_protocol", "Can author crisis protocols")]

    def __str__(self):
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class ProtocolVersion(models.Model):
    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    notes = models.TextField(blank=True, help_text="What changed in this version.")
    repeat_last_level = models.BooleanField(
        default=False, help_text="Re-notify the top level when its timeout passes unanswered."
    )
    max_repeats = models.PositiveSmallIntegerField(
        default=0, help_text="How many times the top level repeats before 'unanswered'."
    )
    ack_timeout_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=(
            "After an acknowledgement, the level re-arms if the desk reports no progress "
            "within this many seconds. Empty: an acknowledgement never times out."
        ),
    )
    created_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    #: What a published version freezes (status may still move on: published -> retired).
    FROZEN_FIELDS = (
        "protocol_id",
        "number",
        "notes",
        "repeat_last_level",
        "max_repeats",
        "ack_timeout_seconds",
        "created_from_id",
        "published_at",
        "published_by_id",
    )

    class Meta:
        ordering = ["protocol__name", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["protocol", "number"], name="protocol_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["protocol"],
                condition=Q(status="published"),
                name="one_published_version_per_protocol",
                violation_error_message="A protocol has exactly one published version at a time.",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="published_version_has_published_at",
            ),
            models.CheckConstraint(
                condition=~Q(status="retired") | Q(retired_at__isnull=False),
                name="retired_version_has_retired_at",
            ),
        ]

    def __str__(self):
        return f"{self.protocol.name} v{self.number} ({self.get_status_display().lower()})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            self._refuse_frozen_change()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        refuse_unless_draft(self.pk)
        return super().delete(*args, **kwargs)

    def _refuse_frozen_change(self) -> None:
        stored = (
            ProtocolVersion.objects.filter(pk=self.pk)
            .values("status", "retired_at", *self.FROZEN_FIELDS)
            .first()
        )
        if stored is None or stored["status"] == VersionStatus.DRAFT:
            return
        changed = [f for f in self.FROZEN_FIELDS if stored[f] != getattr(self, f)]
        moves_on = stored["status"] == VersionStatus.PUBLISHED and self.status in (
            VersionStatus.PUBLISHED,
            VersionStatus.RETIRED,
        )
        stays_retired = stored["status"] == VersionStatus.RETIRED and (
            self.status == VersionStatus.RETIRED and self.retired_at == stored["retired_at"]
        )
        if changed or not (moves_on or stays_retired):
            raise VersionImmutable(
                _("%(version)s is %(status)s: it cannot be changed; make a new draft from it.")
                % {"version": self, "status": stored["status"]},
                details={"version": self.pk, "fields": changed},
            )

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class NotifyScope(models.TextChoices):
    """Whose desks a level notifies (combined with the roles it names)."""

    AFFECTED = "affected", _("Desks of the affected states")
    PARTICIPANTS = "participants", _("Every participating desk")
    ALL_STATES = "all_states", _("Every member state's desks")
    REGIONAL = "regional", _("The regional coordination centre")


class LevelAction(models.TextChoices):
    OPEN_CRISIS_ROOM = "open_crisis_room", _("Open a crisis room for the affected states")
    NOTIFY_ALL_STATES = "notify_all_states", _("Notify every member state")
    ALERT_REGIONAL_CENTRE = "alert_regional_centre", _("Alert the regional coordination centre")
    REQUEST_ASSISTANCE = "request_assistance", _("Invite requests for assistance")


class PartOfVersion:
    """Mixin for a version's parts (levels, checklist items): frozen with the version.

    Saving or deleting one, or moving it between versions, is refused unless every version
    involved is a draft. (Bulk queryset updates bypass this; services never use them on
    frozen versions.)
    """

    def save(self, *args, **kwargs):
        refuse_unless_draft(self.version_id, also=self.pk and self._stored_version_id())
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        refuse_unless_draft(self._stored_version_id())
        return super().delete(*args, **kwargs)

    def _stored_version_id(self):
        return type(self).objects.filter(pk=self.pk).values_list("version_id", flat=True).first()


class EscalationLevel(PartOfVersion, models.Model):
    version = models.ForeignKey(ProtocolVersion, on_delete=models.CASCADE, related_name="levels")
    order = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    name = models.CharField(max_length=120)
    timeout_seconds = models.PositiveIntegerField(
        validators=[MinValueValidator(1)],
        help_text="How long this level has to acknowledge before the next is notified.",
    )
    notify_scopes = models.JSONField(
        default=list,
        blank=True,
        help_text="Subset of: affected, participants, all_states, regional.",
    )
    notify_roles = models.JSONField(
        default=list, blank=True, help_text="Subset of: operator, supervisor, coordinator."
    )
    notify_desks = models.ManyToManyField(Desk, blank=True, related_name="+")
    notify_agency_types = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "Only the member states' desks of these agency types (e.g. cert; coast_guard, "
            "defence). Empty: every desk the scopes reach."
        ),
    )
    actions = models.JSONField(default=list, blank=True, help_text="Actions on entering the level.")

    class Meta:
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "order"], name="level_order_unique_in_version"
            ),
            models.CheckConstraint(
                condition=Q(timeout_seconds__gt=0), name="level_timeout_positive"
            ),
            models.CheckConstraint(condition=Q(order__gte=1), name="level_order_from_one"),
        ]

    def __str__(self):
        return f"L{self.order} {self.name}"


class ParticipantRole(models.TextChoices):
    LEAD = "lead", _("Lead")
    AFFECTED = "affected", _("Affected")
    SUPPORTING = "supporting", _("Supporting")
    OBSERVER = "observer", _("Observer")


class ChecklistItem(PartOfVersion, models.Model):
    """A task every participating desk with ``party_role`` works through."""

    ALL_PARTIES = "all"

    version = models.ForeignKey(ProtocolVersion, on_delete=models.CASCADE, related_name="checklist")
    order = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    party_role = models.CharField(
        max_length=16,
        choices=[(ALL_PARTIES, _("Every party")), *ParticipantRole.choices],
        default=ALL_PARTIES,
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    due_after_minutes = models.PositiveIntegerField(
        default=60, help_text="Due this long after the crisis becomes active."
    )

    class Meta:
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "order"], name="checklist_order_unique_in_version"
            )
        ]

    def __str__(self):
        return f"{self.order}. {self.title}"


def refuse_unless_draft(version_id: int | None, *, also: int | None = None) -> None:
    """Raise :class:`VersionImmutable` unless the version(s) named are drafts (or missing).

    The model-level guard behind the services' checks: saving or deleting a level or a
    checklist item of a published or retired version is refused, whichever code tries.
    """
    ids = {i for i in (version_id, also) if i}
    if not ids:
        return
    frozen = (
        ProtocolVersion.objects.filter(pk__in=ids)
        .exclude(status=VersionStatus.DRAFT)
        .select_related("protocol")
        .first()
    )
    if frozen is not None:
        raise VersionImmutable(
            _("%(frozen)s cannot be changed; make a new draft from it and edit that.")
            % {"frozen": frozen},
            details={"version": frozen.pk, "status": frozen.status},
        )


@receiver(m2m_changed, sender=EscalationLevel.notify_desks.through)
def _refuse_desk_changes_of_frozen_levels(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("pre_"):
        return
    if reverse:  # desk.<related>.add(level…): check every level named
        levels = EscalationLevel.objects.filter(pk__in=pk_set or [])
        for version_id in set(levels.values_list("version_id", flat=True)):
            refuse_unless_draft(version_id)
    else:
        refuse_unless_draft(instance.version_id)
