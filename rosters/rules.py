"""The roster's rules, in one place: who may manage or read a roster, who may be put on
it, and which recurrence rules and intervals are accepted. Services, the admin (model
``clean``) and the iCalendar import all call these; each raises a ``core.errors`` error.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
from django.utils.translation import gettext as _

from core.errors import InvalidInput, NotFound, PermissionDenied
from directory.access import Access
from directory.models import WRITING_ROLES, Desk, DeskMembership, Role

#: A shift lasts at most a week, an override at most 31 days (bounded expansion windows).
MAX_SHIFT_MINUTES = 7 * 24 * 60
MAX_OVERRIDE_DAYS = 31

# --- who ----------------------------------------------------------------------------------


def may_read(access: Access, desk: Desk) -> bool:
    """A desk's people, its state's people, coordinators, auditors and superusers."""
    return access.is_authenticated and (
        access.is_member_of(desk) or access.can_see_state(desk.state_id)
    )


def may_manage(access: Access, desk: Desk) -> bool:
    """The desk's supervisors; coordinators (and superusers) for any desk."""
    return access.is_authenticated and (
        access.is_coordinator
        or bool(getattr(access.user, "is_superuser", False))
        or access.role_on(desk) == Role.SUPERVISOR
    )


def require_manage(access: Access, desk: Desk) -> None:
    """404 for who may not read the roster at all (hidden), 403 for readers who may not edit."""
    if may_manage(access, desk):
        return
    if not may_read(access, desk):
        raise NotFound(_("No such roster."))
    raise PermissionDenied(
        _("Only the desk's supervisors and the regional coordinators manage its roster."),
        code="roster_read_only",
        details={"role": access.role_on(desk)},
    )


def require_on_desk(desk: Desk, person, *, field: str = "person") -> None:
    """Only the desk's own people in a writing role (not auditors) go on its roster."""
    is_member = (
        person is not None
        and getattr(person, "is_active", False)
        and DeskMembership.objects.filter(desk=desk, user=person, role__in=WRITING_ROLES).exists()
    )
    if not is_member:
        name = getattr(person, "username", person)
        raise InvalidInput(
            _(
                "%(field)s: %(name)s is not one of desk %(desk_code)s's people "
                "(operators, supervisors, coordinators); only they can be put on its "
                "roster."
            )
            % {"field": field, "name": repr(name), "desk_code": desk.code},
            code="not_on_desk",
            details={"fields": {field: ["not a member of this desk"]}, "desk": desk.code},
        )


# --- when ---------------------------------------------------------------------------------

FREQUENCIES = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
WEEKDAYS = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"}
#: Each accepted rule part and the range of its (absolute) values; others are refused
#: (BYHOUR, BYMINUTE, BYSECOND: a shift starts at its start time).
_RANGES = {
    "BYMONTHDAY": (1, 31),
    "BYMONTH": (1, 12),
    "BYYEARDAY": (1, 366),
    "BYWEEKNO": (1, 53),
    "BYSETPOS": (1, 366),
}


def _bad_rule(problem: str) -> InvalidInput:
    return InvalidInput(
        f"rrule: {problem}.",
        code="invalid_rrule",
        details={"fields": {"rrule": [problem]}},
    )


def normalize_rrule(text: str) -> tuple[str, datetime | None]:
    """Check an RFC 5545 RRULE value and return it without UNTIL, and UNTIL (UTC) apart.

    Accepted: FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL 1-365, COUNT 1-10000,
    UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYYEARDAY, BYWEEKNO, BYSETPOS, WKST, each within
    its range: out-of-range parts make the expansion library search for minutes or loop.
    """
    text = (text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if not text:
        return "", None
    if len(text) > 255:
        raise _bad_rule(_("longer than 255 characters"))
    try:
        parsed = icalendar.vRecur.from_ical(text)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise _bad_rule(
            _("%(text)s is not an RFC 5545 recurrence rule (%(exc)s)")
            % {"text": repr(text), "exc": exc}
        ) from exc
    parts = {key.upper(): value for key, value in parsed.items()}
    allowed = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "WKST", *_RANGES}
    unknown = sorted(set(parts) - allowed)
    if unknown:
        raise _bad_rule(
            _("%(unknown)s is not supported in a shift's rule") % {"unknown": ", ".join(unknown)}
        )
    freq = [str(f).upper() for f in parts.get("FREQ", [])]
    if len(freq) != 1 or freq[0] not in FREQUENCIES:
        raise _bad_rule(_("FREQ must be one of DAILY, WEEKLY, MONTHLY, YEARLY"))
    if "COUNT" in parts and "UNTIL" in parts:
        raise _bad_rule(_("COUNT and UNTIL cannot both be given"))
    for key, (low, high) in {"INTERVAL": (1, 365), "COUNT": (1, 10000), **_RANGES}.items():
        for value in parts.get(key, []):
            number = _as_int(value, key)
            if not (low <= abs(number) <= high) or (key in ("INTERVAL", "COUNT") and number < 0):
                raise _bad_rule(
                    _("%(key)s=%(value)s is out of range (%(low)s to %(high)s)")
                    % {"key": key, "value": value, "low": low, "high": high}
                )
    for value in parts.get("BYDAY", []):
        day = str(value).upper()
        ordinal, weekday = day[:-2], day[-2:]
        if weekday not in WEEKDAYS or (ordinal and not 1 <= abs(_as_int(ordinal, "BYDAY")) <= 53):
            raise _bad_rule(
                _("BYDAY=%(value)s is not a weekday such as MO or -1FR") % {"value": value}
            )
    for value in parts.get("WKST", []):
        if str(value).upper() not in WEEKDAYS:
            raise _bad_rule(_("WKST=%(value)s is not a weekday") % {"value": value})
    until = None
    if "UNTIL" in parts:
        until = _as_utc(parts.pop("UNTIL")[0])
    rule = icalendar.vRecur(parts).to_ical().decode()
    return rule, until


def _as_int(value, key: str) -> int:
    try:
        return int(str(value).lstrip("+"))
    except ValueError:
        raise _bad_rule(
            _("%(key)s=%(value)s is not a number") % {"key": key, "value": value}
        ) from None


def _as_utc(value) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating UNTIL: read as UTC (RFC 5545 wants it in UTC)
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    # A date: the whole day may start shifts.
    return datetime(value.year, value.month, value.day, 23, 59, 59, tzinfo=UTC)


def check_duration(minutes) -> None:
    if not isinstance(minutes, int) or not 1 <= minutes <= MAX_SHIFT_MINUTES:
        raise InvalidInput(
            _("duration_minutes: a shift lasts 1 to %(max_shift_minutes)s minutes (a week).")
            % {"max_shift_minutes": MAX_SHIFT_MINUTES},
            details={"fields": {"duration_minutes": ["out of range"]}},
        )


def check_interval(starts_at: datetime, ends_at: datetime) -> None:
    """An override ends after it starts and lasts at most ``MAX_OVERRIDE_DAYS``."""
    if ends_at <= starts_at:
        raise InvalidInput(
            _("ends_at: an override must end after it starts."),
            details={"fields": {"ends_at": ["not after starts_at"]}},
        )
    if ends_at - starts_at > timedelta(days=MAX_OVERRIDE_DAYS):
        raise InvalidInput(
            _("ends_at: an override lasts at most %(max_override_days)s days.")
            % {"max_override_days": MAX_OVERRIDE_DAYS},
            details={"fields": {"ends_at": ["too long"]}},
        )
