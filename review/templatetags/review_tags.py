"""Template helpers of the performance and review pages: durations and times in words."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.translation import gettext_lazy as _

from core.templatetags.console import dual_time
from review.performance import duration_text

register = template.Library()

OUTCOMES = {
    "open": _("waiting"),
    "acknowledged": _("acknowledged"),
    "expired": _("expired: nobody acknowledged in time"),
    "stopped": _("escalation stopped"),
    "superseded": _("ladder moved on"),
}


@register.simple_tag
def duration(seconds):
    """ "10 min", "45 s", "2 h 05 min"; "—" for none."""
    return duration_text(seconds)


@register.simple_tag
def dual_time_iso(value, desk=None):
    """``dual_time`` for an ISO 8601 string (the figures are plain JSON)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return dual_time(value, desk)


@register.simple_tag
def outcome_text(outcome: str) -> str:
    return str(OUTCOMES.get(outcome, outcome))
