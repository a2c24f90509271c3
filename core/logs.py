"""Structured logs: one JSON object per line, each carrying who asked (request id, crisis,
line) across web processes and the Celery tasks a request enqueued.

Guarantee: with ``LOG_FORMAT=json`` every log line of a web process or worker is one JSON
object (``time``, ``level``, ``logger``, ``message``, plus any ``extra``), and a line
written while handling a request — or while running a task that request enqueued,
however many tasks down — carries that request's ``request_id`` and, where the URL names
them, its ``crisis_id`` and ``channel_id``.

Mechanism:

- :class:`RequestContextMiddleware` (first in ``MIDDLEWARE``) takes the client's
  ``X-Request-ID`` when it is well-formed (:data:`REQUEST_ID_PATTERN`: 1 to 64 letters,
  digits, ``.``, ``_``, ``-``) and makes one otherwise, binds it to a context variable,
  returns it in the response's ``X-Request-ID`` header and writes one access line per
  request (``core.requests``: method, path, route, status, duration). ``process_view``
  binds the crisis or line the URL names (:func:`ids_from_url`).
- Celery: ``before_task_publish`` copies the bound context into the task message's
  headers (``log_context``); ``task_prerun`` binds it in the worker process (with the
  task's id and name) before the task runs, ``task_postrun`` unbinds it (after Celery's
  own success or failure line), so a line between tasks carries nobody's id.
- :class:`ContextFilter` (on the handler) puts the bound fields on every record; the
  JSON formatter writes them, the plain one ignores them.

Plain text (``LOG_FORMAT=plain``, the default) is unchanged for people at a terminal.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

#: The fields a log line may carry from its context.
CONTEXT_FIELDS = ("request_id", "crisis_id", "channel_id", "task_id", "task_name")

#: An incoming ``X-Request-ID`` is kept only if it looks like an id (no spaces, no
#: control characters, nothing that could forge a log line or a header).
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")

REQUEST_ID_HEADER = "X-Request-ID"

#: The message header that carries the context to Celery tasks.
TASK_HEADER = "log_context"

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("log_context", default=None)

access_logger = logging.getLogger("core.requests")


def current_context() -> dict:
    """The fields bound in this context (a copy)."""
    return dict(_context.get() or {})


def bind(**fields) -> contextvars.Token:
    """Add ``fields`` (None values are dropped) to this context's log fields."""
    merged = {**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}}
    return _context.set(merged)


def replace(fields: dict | None) -> contextvars.Token:
    """Bind exactly ``fields`` (of :data:`CONTEXT_FIELDS`), dropping what was bound."""
    clean = {k: v for k, v in (fields or {}).items() if k in CONTEXT_FIELDS and v is not None}
    return _context.set(clean)


def reset(token: contextvars.Token) -> None:
    _context.reset(token)


def request_id_from(value: str | None) -> str:
    """The client's id if well-formed, else a new one (32 hex digits)."""
    if value and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return uuid.uuid4().hex


# --- formatting ------------------------------------------------------------------------------


class ContextFilter(logging.Filter):
    """Puts the bound context fields on each record (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(_JsonFormatter):
    """``{"time": "...Z", "level": "INFO", "logger": "...", "message": "...", ...}``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        super().__init__(["levelname", "name", "message"], **kwargs)


# --- the web edge ----------------------------------------------------------------------------

#: URL names whose ``pk`` is a crisis or a line: the API's routers (``crisis-detail``,
#: ``channel-messages`` …) and the console's pages.
_PK_NAMES = (
    ("crisis_id", re.compile(r"^(crisis-.*|crisis|.*-crisis)$")),
    ("channel_id", re.compile(r"^(channel-.*|line)$")),
)


def ids_from_url(url_name: str | None, kwargs: dict) -> dict:
    """The crisis and line a URL names: a ``crisis_id``/``channel_id`` kwarg, or the
    ``pk`` of a crisis or line view."""
    found = {f: kwargs[f] for f in ("crisis_id", "channel_id") if f in kwargs}
    if "pk" in kwargs and url_name:
        for field, pattern in _PK_NAMES:
            if pattern.match(url_name):
                found.setdefault(field, kwargs["pk"])
    # Routers pass ids as text; only a number is an id worth a field (no junk in logs).
    return {f: int(v) for f, v in found.items() if str(v).isdigit() and len(str(v)) <= 19}


class RequestContextMiddleware:
    """Binds a request id (and the crisis or line the URL names) for the request's log
    lines and the tasks it enqueues; echoes the id in ``X-Request-ID``; one access line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Imported here: this module is loaded with the logging configuration, before apps.
        from core.logins import client_ip

        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = replace({"request_id": request_id})
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            match = getattr(request, "resolver_match", None)
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "client": client_ip(request),
                    "route": (match.view_name if match else None) or "unmatched",
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        ids = ids_from_url(match.url_name if match else None, view_kwargs)
        if ids:
            bind(**ids)
        return None


# --- Celery ----------------------------------------------------------------------------------


def _before_publish(sender=None, headers=None, **kwargs):
    context = {k: v for k, v in current_context().items() if k not in ("task_id", "task_name")}
    if headers is not None and context:
        headers[TASK_HEADER] = context


#: task id -> the token that restores what was bound before the task (postrun).
_task_tokens: dict[str, contextvars.Token] = {}


def _prerun(sender=None, task_id=None, task=None, **kwargs):
    request = getattr(task, "request", None)
    carried = getattr(request, TASK_HEADER, None)
    if not isinstance(carried, dict):
        # A task run in-process (eager) keeps its caller's context.
        carried = current_context() if getattr(request, "is_eager", False) else {}
    fields = {**carried, "task_id": task_id, "task_name": getattr(task, "name", None)}
    _task_tokens[task_id] = replace(fields)


def _postrun(sender=None, task_id=None, **kwargs):
    # Celery logs "succeeded in" / the failure before postrun, so those lines carry it.
    token = _task_tokens.pop(task_id, None)
    if token is None:
        return
    try:
        reset(token)
    except ValueError:  # bound in another context (another thread): just drop it
        replace(None)


def configure_json_early() -> None:
    """JSON lines from the start of a process, before Django's ``LOGGING`` applies (a
    worker's first lines); Python warnings go through logging too. ``LOGGING`` replaces
    this handler once Django is set up."""
    logging.captureWarnings(True)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def connect_celery() -> None:
    """Carry the context through task messages (called once by ``config.celery``)."""
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(_before_publish, weak=False, dispatch_uid="core.logs.publish")
    task_prerun.connect(_prerun, weak=False, dispatch_uid="core.logs.prerun")
    task_postrun.connect(_postrun, weak=False, dispatch_uid="core.logs.postrun")
