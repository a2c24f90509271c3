"""Template helpers for the console: times in the desk's zone with UTC beside, durations
in words ("10 min"), badges, bars, and the words console.js writes (``console_strings``)."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html, json_script
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.tlp import TLP, label
from core.words import event_words

register = template.Library()


@register.simple_tag
def dual_time(value: datetime | None, desk=None):
    """``<time>``: the desk's local time (and zone) first, UTC beside it; UTC alone for a
    desk in UTC or no desk. ``2026-03-02 14:05 +07 (Asia/Bangkok) · 07:05 UTC``."""
    if value is None:
        return "—"
    return format_html('<time datetime="{}">{}</time>', value.astimezone(UTC).isoformat(),
                       dual_time_text(value, desk))  # fmt: skip


def dual_time_text(value: datetime, desk=None) -> str:
    """The words of :func:`dual_time` without markup (e-mails, SMS, flash messages)."""
    utc = value.astimezone(UTC)
    zone = getattr(desk, "zone", None)
    if zone is None or getattr(desk, "time_zone", "UTC") == "UTC":
        return utc.strftime("%Y-%m-%d %H:%M UTC")
    local = value.astimezone(zone)
    utc_part = utc.strftime("%H:%M" if utc.date() == local.date() else "%Y-%m-%d %H:%M")
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({desk.time_zone}) · {utc_part} UTC"


@register.filter
def duration(seconds) -> str:
    """Seconds as people say them: ``45 s``, ``10 min``, ``1 h 30 min``, ``2 d 3 h``."""
    return format_duration(seconds)


def format_duration(seconds) -> str:
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return "—"
    if seconds < 60:
        return _("%(n)s s") % {"n": seconds}
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(n)s min") % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        if not minutes:
            return _("%(n)s h") % {"n": hours}
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    if not hours:
        return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    return ngettext("%(d)s day %(h)s h", "%(d)s days %(h)s h", days) % {"d": days, "h": hours}


def console_words() -> dict[str, str]:
    """The words console.js writes on the page (``say(key)``), in the reader's language."""
    return {
        "overdue": _("overdue"),
        "alertsOn": _("Alerts: on"),
        "alertsMuted": _("Alerts: muted"),
        "aCrisis": _("A crisis"),
        "escalationLevel": _("%(crisis)s: escalation level %(level)s"),
        "pleaseAcknowledge": _("%(name)s — please acknowledge."),
        "nobodyAcknowledged": _("%(crisis)s: nobody acknowledged"),
        "topUnanswered": _("The top escalation level went unanswered."),
        "newNotification": _("New notification"),
        "flashOnLine": _("Flash message on a hotline"),
        "flashNotAcked": _("Flash message not acknowledged"),
        "desksToAck": _("%(count)s desks still to acknowledge (step %(step)s)."),
    }


@register.simple_tag
def console_strings():
    """:func:`console_words` as a JSON script element (not executed: the CSP allows it
    without a nonce)."""
    return json_script(console_words(), "console-strings")


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
        return _("overdue")
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


# What a timeline entry's kind is called on the page (other kinds: the kind in words).
TIMELINE_WORDS = {
    "reported": gettext_lazy("Reported"),
    "status_changed": gettext_lazy("Status changed"),
    "severity_changed": gettext_lazy("Severity changed"),
    "acknowledged": gettext_lazy("Acknowledged"),
    "level_entered": gettext_lazy("Escalation level reached"),
    "level_expired": gettext_lazy("Escalation level not acknowledged in time"),
    "ack_timed_out": gettext_lazy("No progress reported after the acknowledgement"),
    "escalation_stopped": gettext_lazy("Escalation stopped"),
    "unanswered": gettext_lazy("Nobody acknowledged the top level"),
    "participant_changed": gettext_lazy("Desks taking part changed"),
    "progress_reported": gettext_lazy("Progress reported"),
    "situation_update": gettext_lazy("Situation update"),
    "task_done": gettext_lazy("Task done"),
    "task_assigned": gettext_lazy("Task assigned"),
    "task_reminder_sent": gettext_lazy("Task due: assignee reminded"),
    "participant_removed": gettext_lazy("A desk no longer takes part"),
    "cap_received": gettext_lazy("CAP alert received"),
    "reminder_sent": gettext_lazy("Reminder sent"),
}


@register.filter
def timeline_text(entry) -> str:
    """One readable line for a timeline entry: its kind and the payload's gist."""
    payload = entry.payload or {}
    words = TIMELINE_WORDS.get(entry.kind)
    text = str(words) if words else event_words(entry.kind)
    if entry.kind.startswith("participant_") and payload.get("desk"):
        text += f": {payload['desk']}"
        if payload.get("to"):
            text += f" ({payload.get('from') or '—'} → {payload['to']})"
    elif "from" in payload and "to" in payload:
        text += f": {payload['from']} → {payload['to']}"
    elif "level" in payload:
        text += ": " + _("level %(level)s") % {"level": payload["level"]}
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
