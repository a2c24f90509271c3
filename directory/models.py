"""The member-state directory: states, their desks, and who works on which desk."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

iso3_validator = RegexValidator(
    r"^[A-Z]{3}$", "Use the ISO 3166-1 alpha-3 code: three capital letters, e.g. THA."
)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(zone)s is not an IANA time zone (e.g. Asia/Bangkok).") % {"zone": repr(value)}
        )


class MemberState(models.Model):
    code = models.CharField(
        "ISO 3166-1 alpha-3 code", max_length=3, unique=True, validators=[iso3_validator]
    )
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        db_table = "crisis_memberstate"  # created under the crisis app; the name stays
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z]{3}$"), name="state_code_iso3")
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class DeskKind(models.TextChoices):
    NATIONAL = "national", _("National desk")
    REGIONAL = "regional", _("Regional coordination centre")


class AgencyType(models.TextChoices):
    """What kind of agency runs a desk: protocols can page desks by it (a cyber protocol its
    CERT desks, a maritime one the coast guard and defence desks)."""

    DISASTER_MANAGEMENT = "disaster_management", _("Disaster management")
    CERT = "cert", _("CERT (computer emergency response team)")
    COAST_GUARD = "coast_guard", _("Coast guard")
    DEFENCE = "defence", _("Defence")
    POLICE = "police", _("Police")
    FOREIGN_AFFAIRS = "foreign_affairs", _("Foreign affairs")


class Desk(models.Model):
    """A 24/7 operations centre: a member state's national desk or the regional centre."""

    code = models.SlugField(
        max_length=32, unique=True, help_text="Short stable name, e.g. THA-DDPM or AHA."
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=DeskKind.choices, default=DeskKind.NATIONAL)
    state = models.ForeignKey(
        MemberState,
        on_delete=models.PROTECT,
        related_name="desks",
        null=True,
        blank=True,
        help_text="Empty only for the regional coordination centre.",
    )
    agency_type = models.CharField(
        max_length=32,
        choices=AgencyType.choices,
        default=AgencyType.DISASTER_MANAGEMENT,
        help_text="The kind of agency that runs the desk; protocol levels can page by it.",
    )
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="IANA name"
    )
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "crisis_desk"  # created under the crisis app; the name stays
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=DeskKind.NATIONAL, state__isnull=False)
                    | Q(kind=DeskKind.REGIONAL, state__isnull=True)
                ),
                name="desk_national_has_state_regional_has_none",
                violation_error_message=(
                    "A national desk belongs to a member state; the regional centre to none."
                ),
            ),
            models.CheckConstraint(
                condition=Q(agency_type__in=AgencyType.values),
                name="desk_agency_type_known",
                violation_error_message="Unknown agency type.",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_regional(self) -> bool:
        return self.kind == DeskKind.REGIONAL

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Role(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    SUPERVISOR = "supervisor", _("Supervisor")
    COORDINATOR = "coordinator", _("Coordinator (regional centre)")
    AUDITOR = "auditor", _("Auditor (read-only)")


#: Roles that may change things on behalf of their desk.
WRITING_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.COORDINATOR})


class DeskMembership(models.Model):
    """A person works on a desk in one role."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="desk_memberships"
    )
    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "crisis_deskmembership"  # created under the crisis app; the name stays
        ordering = ["desk__code", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "desk"], name="one_role_per_user_and_desk")
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} at {self.desk}"

    def clean(self):
        if self.role == Role.COORDINATOR and self.desk_id and not self.desk.is_regional:
            raise ValidationError(
                {"role": _("Coordinators work at the regional coordination centre desk.")}
            )
