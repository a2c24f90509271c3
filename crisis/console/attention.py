"""Escalation levels waiting for the desk's acknowledgement: on every console page."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from core.console.shell import AttentionItem
from crisis.console.selectors import awaits_acknowledgement, open_crises_for

SHOWN = 10


def levels_to_acknowledge(access, desk) -> list[AttentionItem]:
    crises = [c for c in open_crises_for(access, desk)[:50] if awaits_acknowledgement(c, desk)]
    return [
        AttentionItem(
            key=f"crisis:{c.pk}",
            text=_("%(reference)s %(title)s: escalation level %(level)s") % {
                "reference": c.reference, "title": c.title, "level": c.current_level
            },
            link=reverse("console:crisis", kwargs={"pk": c.pk}),
            action=_("acknowledge it"),
        )
        for c in crises[:SHOWN]
    ]  # fmt: skip
