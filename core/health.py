"""Liveness and readiness probes for the orchestrator and for people on call.

``/readyz`` is public (the orchestrator calls it without logging in): it names the checks
that failed, never why. The reason (exception text: host names, ports, database names)
goes to the log, and into the answer only for a logged-in staff member.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.redis_connection import redis_client

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 2.0

#: Extra readiness checks other parts register: name -> callable returning None or a reason.
EXTRA_CHECKS: dict[str, callable] = {}


def _check_database() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return None


def _check_redis() -> str | None:
    client = redis_client(
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS, socket_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()
    return None


def _check_broker() -> str | None:
    # The project's Celery app (config.celery) is the current one in every process.
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0.2, timeout=PROBE_TIMEOUT_SECONDS
        )
    return None


def run_checks() -> dict[str, str]:
    checks = {
        "database": _check_database,
        "redis": _check_redis,
        "broker": _check_broker,
        **EXTRA_CHECKS,
    }
    results = {}
    for name, check in checks.items():
        try:
            reason = check()
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
        if reason is not None:
            logger.warning("readiness check %s failed: %s", name, reason)
        results[name] = "ok" if reason is None else reason
    return results


@never_cache
@require_GET
def healthz(request):
    """The process is up and serving requests."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Database, Redis (channel layer) and the Celery broker all answer; 503 says which not."""
    results = run_checks()
    failing = {name: reason for name, reason in results.items() if reason != "ok"}
    if not (request.user.is_authenticated and request.user.is_staff):
        results = {name: "ok" if reason == "ok" else "failing" for name, reason in results.items()}
    if failing:
        return JsonResponse(
            {
                "status": "unavailable",
                "code": "not_ready",
                "message": "Not ready: " + ", ".join(sorted(failing)) + " unavailable.",
                "checks": results,
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "checks": results})
