"""Exercise mode: what is a drill, and how reads keep drills and real traffic apart.

A crisis is real or an exercise from the moment it is reported (``Crisis.exercise``; the
database refuses to change it, migration ``0015``). Everything hanging off a crisis
(its rooms and their messages, its pages, requests, pledges, shelters, displacement
figures, CAP alerts) derives its mark from the crisis: no second flag to drift.

Two rules for reads, used by every app:

- **Lists** of items show real and exercise items alike, each marked (``"exercise":
  true`` in the API, a badge in the console), and take ``?exercise=true|false|all``.
- **Figures** (counts, gap analysis, sitrep totals, ``/metrics``) count real crises only,
  unless the caller asks for exercises (``?exercise=true`` for a drill's own figures, or
  ``all``): a drill never inflates the region's real picture.

``EXERCISE_BANNER`` is the words every surface leads with, as real drill traffic is
marked ("EXERCISE EXERCISE EXERCISE").
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from prometheus_client.core import GaugeMetricFamily

from core.errors import InvalidInput
from core.exercise import EXERCISE_MARK
from crisis.lifecycle import OPEN_STATUSES
from crisis.models import Crisis

#: How drill traffic is marked wherever people read it (kept in English on purpose: the
#: words are the radio convention every operator knows, whatever the desk's language).
EXERCISE_BANNER = EXERCISE_MARK

REAL, EXERCISE, ALL = "false", "true", "all"
EXERCISE_CHOICES = [
    (REAL, _("Real crises only")),
    (EXERCISE, _("Exercises (drills) only")),
    (ALL, _("Real crises and exercises")),
]
EXERCISE_HELP = (
    "`false`: real crises only; `true`: exercises (drills) only; `all`: both. "
    "Lists default to `all` (each item marked), figures to `false`."
)


def exercise_scope(value: str | None, *, default: str) -> str:
    """``value`` (``true``/``false``/``all``, a query parameter) or ``default`` when empty.

    Anything else raises InvalidInput naming the parameter."""
    if value is None or value == "":
        return default
    lowered = str(value).strip().lower()
    aliases = {"1": EXERCISE, "yes": EXERCISE, "0": REAL, "no": REAL}
    lowered = aliases.get(lowered, lowered)
    if lowered not in (REAL, EXERCISE, ALL):
        raise InvalidInput(
            _(
                "Unknown exercise filter %(value)s: use true (exercises only), false "
                "(real crises only) or all."
            )
            % {"value": repr(value)},
            code="invalid_exercise_filter",
            details={"exercise": value},
        )
    return lowered


def exercise_q(scope: str, *, path: str = "exercise") -> Q:
    """A filter on ``path`` (the crisis's flag, e.g. ``crisis__exercise``) for ``scope``.

    Items without a crisis (``path`` through a nullable key) are real."""
    if scope == ALL:
        return Q()
    if scope == EXERCISE:
        return Q(**{path: True})
    if "__" in path:
        return Q(**{path: False}) | Q(**{f"{path.rsplit('__', 1)[0]}__isnull": True})
    return Q(**{path: False})


def scoped(queryset: QuerySet, scope: str, *, path: str = "exercise") -> QuerySet:
    """``queryset`` limited to ``scope`` (see :func:`exercise_q`)."""
    if scope == ALL:
        return queryset
    return queryset.filter(exercise_q(scope, path=path))


def figures_scope(request) -> str:
    """The scope a figure (count, total, gap) is computed for: ``?exercise=`` of the
    request, real crises only by default."""
    params = getattr(request, "query_params", None) or request.GET
    return exercise_scope(params.get("exercise"), default=REAL)


def collect_metrics() -> list:
    """Scrape-time figures for ``/metrics`` (``core.metrics.SCRAPE_COLLECTORS``): open real
    crises, and open exercises under a name of their own, so no sum of the real figure
    ever counts a drill (one grouped query)."""
    counts = dict(
        Crisis.objects.filter(status__in=OPEN_STATUSES)
        .values("exercise")
        .annotate(n=Count("pk"))
        .values_list("exercise", "n")
    )
    return [
        GaugeMetricFamily(
            "crisis_open_crises",
            "Open real crises (reported, active, de-escalating); exercises are not counted.",
            value=counts.get(False, 0),
        ),
        GaugeMetricFamily(
            "crisis_open_exercises",
            "Open exercise crises (drills), counted apart from real crises.",
            value=counts.get(True, 0),
        ),
    ]
