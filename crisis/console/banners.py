"""The exercise banner: "EXERCISE EXERCISE EXERCISE" on every console page of a person
whose desk is party to an open exercise crisis, and on any page showing exercise
material (a view passes :func:`exercise_page_banner` as ``page_banners``)."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.console.shell import Banner
from crisis.exercise import EXERCISE_BANNER
from crisis.lifecycle import OPEN_STATUSES
from crisis.models import Crisis

KEY = "exercise"
#: Exercises named in the banner (more are counted, not linked).
SHOWN = 3


def open_exercises_of(access) -> list[Crisis]:
    """Open exercise crises any of the person's desks or states is party to (one query)."""
    if not access.is_authenticated:
        return []
    party = Q(participants__desk_id__in=access.desk_ids) | Q(affected_states__in=access.state_ids)
    return list(
        Crisis.objects.filter(party, exercise=True, status__in=OPEN_STATUSES)
        .distinct()
        .order_by("-reported_at")
        .only("pk", "reference", "title")
    )


def exercise_banner(request, access, desk) -> Banner | None:
    """The shell-wide banner (registered with ``core.console.shell.register_banner``)."""
    drills = open_exercises_of(access)
    if not drills:
        return None
    detail = ngettext(
        "Your desk takes part in a drill: exercise traffic is marked, real traffic is not.",
        "Your desk takes part in %(count)d drills: exercise traffic is marked, real traffic "
        "is not.",
        len(drills),
    ) % {"count": len(drills)}
    links = tuple(
        (f"{c.reference} {c.title}", reverse("console:crisis", kwargs={"pk": c.pk}))
        for c in drills[:SHOWN]
    )
    return Banner(key=KEY, text=EXERCISE_BANNER, detail=detail, links=links, tone="exercise")


def exercise_page_banner(*items) -> list[Banner]:
    """The page's banner when it shows exercise material: any of ``items`` (crises, lines,
    anything with an ``exercise`` flag) is drill material; else none."""
    if not any(item is not None and item.exercise for item in items):
        return []
    return [
        Banner(
            key=KEY,
            text=EXERCISE_BANNER,
            detail=_("This page shows exercise material: a drill, not a real crisis."),
            tone="exercise",
        )
    ]
