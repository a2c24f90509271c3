"""Template helpers for the console: times in UTC and the desk's zone, badges, bars."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

from core.tlp import TLP, label
from core.words import event_words

register = template.Library()


@register.simple_tag
def dual_time(value: datetime | None, desk=None):
    """``<time>`` with the UTC time and, when the desk's zone differs, its local time."""
    if value is None:
        return "—"
    utc = value.astimezone(UTC)
    text = utc.strftime("%Y-%m-%d %H:%M UTC")
    zone = getattr(desk, "zone", None)
    if zone is not None and getattr(desk, "time_zone", "UTC") != "UTC":
        local = value.astimezone(zone)
        text += f" · {local.strftime('%H:%M')} {local.tzname()} ({desk.time_zone})"
    return format_html('<time datetime="{}">{}</time>', utc.isoformat(), text)


@register.simple_tag
def countdown(value: datetime | None):
    """A live countdown to ``value`` (console.js ticks it every second)."""
    if value is None:
        return "—"
    remaining = int((value - timezone.now()).total_seconds())
    return format_html(
        '<span class="countdown" data-countdown="{}" role="timer">{}</span>',
        value.astimezone(UTC).isoformat(),
        format_remaining(remaining),
    )


def format_remaining(seconds: int) -> str:
    if seconds <= 0:
        return "overdue"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def percent(part, whole) -> int:
    """Whole-number percentage, capped at 100, safe with zero or empty values."""
    try:
        part, whole = float(part or 0), float(whole or 0)
    except (TypeError, ValueError):
        return 0
    if whole <= 0:
        return 0
    return max(0, min(100, round(100 * part / whole)))


@register.filter
def timeline_text(entry) -> str:
    """One readable line for a timeline entry: its kind and the payload's gist."""
    payload = entry.payload or {}
    text = event_words(entry.kind)
    if "from" in payload and "to" in payload:
        text += f": {payload['from']} → {payload['to']}"
    elif "level" in payload:
        text += f": level {payload['level']}"
        if payload.get("name"):
            text += f" ({payload['name']})"
    elif payload.get("title"):
        text += f": {payload['title']}"
    if payload.get("reason"):
        text += f" — {payload['reason']}"
    if payload.get("tlp") in TLP.values:
        text += f" ({label(payload['tlp'])})"
    return text


@register.simple_tag
def tlp_badge(value: str | None):
    """The TLP marking as FIRST writes it (``TLP:AMBER``), in its colour on black."""
    if not value or value not in TLP.values:
        return ""
    return format_html(
        '<span class="tlp tlp-{}" title="{}" data-tlp="{}">{}</span>',
        value.lower().replace("+", "-"),
        TLP(value).label,
        value,
        label(value),
    )
