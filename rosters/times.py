"""Times typed by people: in the desk's time zone unless they carry an offset."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.errors import InvalidInput


def _parse(value, field: str) -> datetime:
    parsed = None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) <= 64:
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise InvalidInput(
            _(
                "%(field)s: %(value)s is not an ISO 8601 date-time such as "
                "2026-03-02T08:00 (the desk's time) or 2026-03-02T01:00Z."
            )
            % {"field": field, "value": repr(str(value)[:64])},
            details={"fields": {field: ["not an ISO 8601 date-time"]}},
        )
    return parsed


def instant(value, zone: ZoneInfo, *, field: str) -> datetime:
    """An aware UTC moment; a time without an offset is read in ``zone`` (the desk's)."""
    parsed = _parse(value, field)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def wall_clock(value, zone: ZoneInfo, *, field: str) -> datetime:
    """A naive wall-clock time in ``zone``; a time with an offset is moved into ``zone``."""
    parsed = _parse(value, field)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(zone).replace(tzinfo=None)
    return parsed
