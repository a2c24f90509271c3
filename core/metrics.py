"""Prometheus metrics: one registry of names, aggregated across processes, at ``/metrics``.

Guarantee: one scrape of any web process shows the sums over every web process and
worker that writes into the same ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
multiprocess mode: each process writes its values to memory-mapped files there, a scrape
reads them all). Without that variable each process counts for itself (development,
tests).

Mechanism:

- The metrics are defined here, once, with bounded labels (a route *name*, never a raw
  path; a transport; an outcome; a priority), and pre-created for the label values we
  know, so a dashboard never waits for the first failure to see a series.
- Apps count at their edges with a line each (the hotline, the deadline engine, paging).
- Figures that live elsewhere are read at scrape time by collectors registered in
  :data:`SCRAPE_COLLECTORS` (``deadlines``: overdue count from one indexed query) or
  defined here (Celery queue depth: ``LLEN`` on the broker with a one-second timeout).
  A collector that fails shows as ``crisis_metrics_collector_up{collector=...} 0``; the
  scrape never answers 500 because Redis or the broker is away.
- Files are named ``<type>_<host>-<pid>.db`` (not the bare pid): containers sharing one
  directory all run as pid 1. Gauges of live processes (websocket connections) are
  summed over live processes only: a process removes its own on exit, and a scrape
  removes those of processes on this host that died without exiting cleanly.

The directory must be empty when the service starts (``scripts/run.py``, compose's
``migrate`` service): see docs/operations.md, "Metrics".
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterable

import prometheus_client
from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from core.errors import error_body

logger = logging.getLogger(__name__)

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def process_identifier() -> str:
    """``<host>-<pid>``: distinct across containers sharing the directory (no ``_``,
    which prometheus-client uses to split file names)."""
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())
    return f"{host}-{os.getpid()}"


if MULTIPROC_DIR:
    # Before any metric exists: every value is then backed by a file named for this
    # process (forked Celery pool children notice the pid change and get their own).
    values.ValueClass = values.MultiProcessValue(process_identifier)
    os.makedirs(MULTIPROC_DIR, exist_ok=True)
    # A previous process with the same host and pid (a restarted container) left its live
    # gauges behind: they are not ours.
    mark_process_dead(process_identifier(), MULTIPROC_DIR)
    atexit.register(lambda: mark_process_dead(process_identifier(), MULTIPROC_DIR))


# --- the metrics ---------------------------------------------------------------------------

# No ``*_created`` series: Prometheus does not need them and multiprocess mode has none.
prometheus_client.disable_created_metrics()

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

HTTP_REQUESTS = prometheus_client.Counter(
    "crisis_http_requests",
    "HTTP requests answered, by method, route name and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = prometheus_client.Histogram(
    "crisis_http_request_duration_seconds",
    "Time from the request reaching Django to the response, by method and route name.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WEBSOCKET_CONNECTIONS = prometheus_client.Gauge(
    "crisis_websocket_connections",
    "Websocket connections open (/ws/v1/), summed over live web processes.",
    multiprocess_mode="livesum",
)
HOTLINE_SENT = prometheus_client.Counter(
    "crisis_hotline_messages_sent",
    "Hotline messages committed (sent on a line), by priority.",
    ["priority"],
)
HOTLINE_DELIVERED = prometheus_client.Counter(
    "crisis_hotline_messages_delivered",
    "Hotline message frames handed to websocket connections (live or replayed).",
)
HOTLINE_LINE_REPAIRS = prometheus_client.Counter(
    "crisis_hotline_line_repairs",
    "Connections that re-read a line because the database was ahead of what they had "
    "been sent for a whole check (a live event was lost on the way: a process died "
    "between its commit and its publish, or Redis dropped it).",
)
HOTLINE_FANOUT_LAG = prometheus_client.Histogram(
    "crisis_hotline_fanout_lag_seconds",
    "From a message's creation (in its transaction) to a web process's hub handing it "
    "to that process's connections.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DEADLINE_LATENESS = prometheus_client.Histogram(
    "crisis_deadline_lateness_seconds",
    "How late a deadline fired (fired_at - due_at), by kind; counted once it committed.",
    ["kind"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
PAGING_ATTEMPTS = prometheus_client.Counter(
    "crisis_paging_send_attempts",
    "Tries to send a page, by transport (email, sms, voice, webhook) and outcome.",
    ["transport", "outcome"],
)

EXERCISE_TRAFFIC = prometheus_client.Counter(
    "crisis_exercise_traffic",
    "Drill traffic (of exercise crises and lines), counted here and never in the real "
    "figures above: hotline messages sent and delivered, paging send tries.",
    ["what"],
)
#: What ``EXERCISE_TRAFFIC`` counts.
EXERCISE_TRAFFIC_KINDS = ("hotline_sent", "hotline_delivered", "paging_attempt")

#: Outcomes of a paging send try (``PAGING_ATTEMPTS``).
PAGING_OUTCOMES = ("sent", "transient_failure", "permanent_failure")
PAGING_TRANSPORTS = ("email", "sms", "voice", "webhook")


def _precreate() -> None:
    """Series we know will exist, at zero from the start."""
    for transport in PAGING_TRANSPORTS:
        for outcome in PAGING_OUTCOMES:
            PAGING_ATTEMPTS.labels(transport=transport, outcome=outcome)
    for what in EXERCISE_TRAFFIC_KINDS:
        EXERCISE_TRAFFIC.labels(what=what)
    for priority in ("routine", "urgent", "flash"):
        HOTLINE_SENT.labels(priority=priority)


_precreate()


def count_paging_attempt(transport: str, outcome: str, *, exercise: bool = False) -> None:
    """One send try; a drill's (``exercise``) counts as drill traffic, not in the real figure."""
    if exercise:
        EXERCISE_TRAFFIC.labels(what="paging_attempt").inc()
    else:
        PAGING_ATTEMPTS.labels(transport=transport, outcome=outcome).inc()


def observe_deadline_fired(kind: str, lateness_seconds: float) -> None:
    DEADLINE_LATENESS.labels(kind=kind).observe(max(0.0, lateness_seconds))


# --- HTTP ------------------------------------------------------------------------------------


def route_name(request) -> str:
    """The matched URL's name (``crisis-detail``, ``readyz``): a bounded label. Requests
    answered before routing (413, lockout) or matching nothing are ``unmatched``."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class RequestMetricsMiddleware:
    """Counts every HTTP request and times it, labelled by route name (first in
    ``MIDDLEWARE`` so the other middleware's time counts too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in HTTP_METHODS else "other"
        route = route_name(request)
        HTTP_LATENCY.labels(method=method, route=route).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(method=method, route=route, status=str(response.status_code)).inc()
        return response


# --- scrape-time collectors -------------------------------------------------------------------

#: name -> callable returning metric families, run at each scrape (cheap reads only).
SCRAPE_COLLECTORS: dict[str, Callable[[], Iterable[Metric]]] = {}

BROKER_TIMEOUT_SECONDS = 1.0


def celery_queues() -> list[str]:
    """The queues our tasks go to: the default one and every routed one."""
    from celery import current_app

    conf = current_app.conf
    names = {conf.task_default_queue}
    for route in (conf.task_routes or {}).values():
        if isinstance(route, dict) and route.get("queue"):
            names.add(route["queue"])
    return sorted(names)


def collect_celery_queues() -> list[Metric]:
    """``LLEN`` of each queue on the broker, or ``crisis_celery_broker_up 0``."""
    from celery import current_app

    up = GaugeMetricFamily(
        "crisis_celery_broker_up", "1 if the Celery broker answered this scrape, else 0."
    )
    depth = GaugeMetricFamily(
        "crisis_celery_queue_length",
        "Messages waiting in each Celery queue on the broker (read at scrape).",
        labels=["queue"],
    )
    options = {
        "socket_timeout": BROKER_TIMEOUT_SECONDS,
        "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    }
    try:
        with current_app.connection_for_read(transport_options=options) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
            client = conn.default_channel.client
            lengths = [(queue, client.llen(queue)) for queue in celery_queues()]
    except Exception as exc:
        logger.warning("metrics: the Celery broker did not answer: %s", type(exc).__name__)
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    for queue, length in lengths:
        depth.add_metric([queue], length)
    return [up, depth]


SCRAPE_COLLECTORS["celery"] = collect_celery_queues


class _ScrapeTime:
    """Runs the registered scrape collectors; one failing does not hide the others."""

    def collect(self):
        health = GaugeMetricFamily(
            "crisis_metrics_collector_up",
            "1 if the scrape-time collector answered, else 0.",
            labels=["collector"],
        )
        for name, collector in sorted(SCRAPE_COLLECTORS.items()):
            try:
                families = list(collector())
            except Exception:
                logger.warning("metrics: collector %s failed", name, exc_info=True)
                health.add_metric([name], 0)
                continue
            health.add_metric([name], 1)
            yield from families
        yield health


def _forget_dead_processes() -> None:
    """Drop the live gauges of processes on this host that are gone (SIGKILLed)."""
    host = process_identifier().rsplit("-", 1)[0]
    for path in glob.glob(os.path.join(MULTIPROC_DIR, "gauge_live*_*.db")):
        ident = os.path.basename(path)[:-3].split("_", 2)[-1]
        ident_host, _, pid = ident.rpartition("-")
        if ident_host != host or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            mark_process_dead(ident, MULTIPROC_DIR)
        except PermissionError:  # alive, someone else's
            pass


def render() -> bytes:
    """The whole exposition text: this process (or every process) plus scrape-time reads."""
    registry = prometheus_client.CollectorRegistry(auto_describe=False)
    if MULTIPROC_DIR:
        with contextlib.suppress(OSError):
            _forget_dead_processes()
        MultiProcessCollector(registry, path=MULTIPROC_DIR)
    else:
        registry.register(prometheus_client.REGISTRY)
    registry.register(_ScrapeTime())
    return prometheus_client.generate_latest(registry)


@never_cache
@require_GET
def metrics_view(request):
    """``/metrics``: Prometheus text, only for ``Authorization: Bearer $METRICS_TOKEN``.

    Without ``METRICS_TOKEN`` the endpoint does not exist (404). No header, or another
    scheme: 401 asking for a bearer token. A wrong token: 403. Compared in constant time.
    """
    expected = getattr(settings, "METRICS_TOKEN", "")
    if not expected:
        return HttpResponseNotFound()
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        response = JsonResponse(
            error_body("not_authenticated", "Send Authorization: Bearer <METRICS_TOKEN>."),
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not constant_time_compare(given.strip(), expected):
        return JsonResponse(error_body("permission_denied", "Wrong metrics token."), status=403)
    return HttpResponse(render(), content_type=prometheus_client.CONTENT_TYPE_LATEST)
