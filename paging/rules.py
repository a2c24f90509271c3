"""Who is notified how and when: notification rules and quiet hours.

A person's own :class:`~paging.models.NotificationRule` rows for an urgency win; without
any, their role on the paging desk gives the default set (``PAGING_DEFAULT_RULES``:
role → urgency → list of ``[kind, delay_seconds]``). Quiet hours hold back urgent and
routine pages until they end, in the paging desk's zone; flash and escalation pages
never wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings

from directory.models import Desk
from paging.models import LOUD_URGENCIES, NotificationRule, PagingPreference


@dataclass(frozen=True)
class Rule:
    kind: str
    delay_seconds: int


def default_rules(role: str | None, urgency: str) -> list[Rule]:
    table = settings.PAGING_DEFAULT_RULES
    steps = table.get(role or "", table.get("*", {})).get(urgency, [])
    return [Rule(kind=str(kind), delay_seconds=int(delay)) for kind, delay in steps]


def rules_for(user, *, role: str | None, urgency: str) -> list[Rule]:
    """The notification steps for ``user`` on a page of ``urgency``, soonest first."""
    own = [
        Rule(kind=r.kind, delay_seconds=r.delay_seconds)
        for r in NotificationRule.objects.filter(user=user, urgency=urgency)
    ]
    rules = own or default_rules(role, urgency)
    return sorted(rules, key=lambda r: r.delay_seconds)


def _in_window(moment: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # across midnight, e.g. 22:00 to 06:00


def release_at(user, *, desk: Desk, urgency: str, at: datetime) -> datetime:
    """When a page of ``urgency`` for ``user`` may go out: ``at``, or the end of their
    quiet hours (in ``desk``'s zone) if ``at`` falls inside them."""
    if urgency in LOUD_URGENCIES:
        return at
    pref = PagingPreference.objects.filter(user=user).first()
    if pref is None or pref.quiet_from is None:
        return at
    local = at.astimezone(desk.zone)
    if not _in_window(local.timetz().replace(tzinfo=None), pref.quiet_from, pref.quiet_until):
        return at
    end = local.replace(
        hour=pref.quiet_until.hour, minute=pref.quiet_until.minute, second=0, microsecond=0
    )
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(at.tzinfo)
