"""Which protocol's trigger, if any, a new CAP alert from a feed matches (pure reading:
no writes). See :class:`feeds.models.CapTrigger` for the rule."""

from __future__ import annotations

from collections.abc import Iterable

from crisis import cap
from crisis.services.cap_alerts import state_codes_in
from feeds.models import SEVERITY_ORDER, CapFeed, CapTrigger


def alert_states(info: cap.CapInfo, feed: CapFeed) -> set[str]:
    """The member states an alert concerns: its feed's state and its ISO 3166 geocodes."""
    return {feed.state.code, *state_codes_in(info)}


def matches(trigger: CapTrigger, info: cap.CapInfo, states: set[str]) -> bool:
    text = f"{info.event} {info.headline}".lower()
    if trigger.words and not any(word in text for word in trigger.words):
        return False
    if SEVERITY_ORDER.index(info.severity) < SEVERITY_ORDER.index(trigger.min_severity):
        return False
    wanted = {s.code for s in trigger.states.all()}
    return not wanted or bool(wanted & states)


def first_match(
    triggers: Iterable[CapTrigger], info: cap.CapInfo, feed: CapFeed
) -> CapTrigger | None:
    """The first active trigger (by protocol name) the alert's first ``<info>`` matches."""
    states = alert_states(info, feed)
    return next((t for t in triggers if t.is_active and matches(t, info, states)), None)
