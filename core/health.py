"""Probes: two for the orchestrator, one for people and alerting.

- ``/healthz``: the process is alive (liveness; restart it if this fails).
- ``/readyz``: this web process can serve, which needs its database only (readiness;
  route traffic to it while this passes). Redis, the broker and beat are deliberately
  not in it: with Redis down the console and the API keep working (live pushes are
  caught up from the database), and failing readiness on a shared dependency would pull
  every web process at once.
- ``/status``: everything, for people and alerting: database, Redis, the broker, and the
  checks other parts register (``EXTRA_CHECKS``: the deadline sweep and overdue
  deadlines). 503 when any fails.

All are public (probes call them without logging in): they name the checks that failed,
never why. The reason (exception text: host names, ports, database names) goes to the
log, and into the answer only for a logged-in staff member.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import redis as core_redis

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 2.0

#: Checks other parts register for ``/status``: name -> callable returning None or a reason.
EXTRA_CHECKS: dict[str, callable] = {}


def _check_database() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return None


def _check_redis() -> str | None:
    core_redis.sync_client().ping()
    return None


def _check_broker() -> str | None:
    # The project's Celery app (config.celery) is the current one in every process.
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0.2, timeout=PROBE_TIMEOUT_SECONDS
        )
    return None


def run_checks(*, full: bool = True) -> dict[str, str]:
    """Run the checks (only the database unless ``full``): name -> "ok" or the reason."""
    checks = {"database": _check_database}
    if full:
        checks |= {"redis": _check_redis, "broker": _check_broker, **EXTRA_CHECKS}
    results = {}
    for name, check in checks.items():
        try:
            reason = check()
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
        if reason is not None:
            logger.warning("health check %s failed: %s", name, reason)
        results[name] = "ok" if reason is None else reason
    return results


def _answer(request, results: dict[str, str], *, what: str) -> JsonResponse:
    failing = {name: reason for name, reason in results.items() if reason != "ok"}
    if not (request.user.is_authenticated and request.user.is_staff):
        results = {name: "ok" if reason == "ok" else "failing" for name, reason in results.items()}
    if failing:
        return JsonResponse(
            {
                "status": "unavailable",
                "code": "not_ready" if what == "ready" else "degraded",
                "message": f"{'Not ready' if what == 'ready' else 'Degraded'}: "
                + ", ".join(sorted(failing))
                + " unavailable.",
                "checks": results,
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "checks": results})


@never_cache
@require_GET
def healthz(request):
    """The process is up and serving requests."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """This process can serve: its database answers. 503 if not."""
    return _answer(request, run_checks(full=False), what="ready")


@never_cache
@require_GET
def status(request):
    """Everything people and alerting need: database, Redis, broker, deadline sweep and
    overdue deadlines (and whatever else registered). 503 names what fails."""
    return _answer(request, run_checks(full=True), what="status")
