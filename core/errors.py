"""Domain errors and the one place that turns any error into the one error shape.

Every error leaving the system, over HTTP or as a websocket error frame, looks like::

    {"code": "transition_not_allowed", "message": "A resolved crisis can only be closed.",
     "details": {...}}

Services raise a :class:`DomainError` subclass with a stable ``code`` and a human reason;
:func:`api_exception_handler` (DRF) and :func:`error_frame` (websockets) render it.
"""

from __future__ import annotations

import logging
import sys

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError as DjangoInterfaceError
from django.db import OperationalError as DjangoOperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A refusal with a stable machine code, a human message and an HTTP status."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}

    def as_body(self) -> dict:
        return {"code": self.code, "message": str(self.message), "details": self.details}


class InvalidInput(DomainError):
    status = 400
    code = "invalid"


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"


class NotFound(DomainError):
    """Also used for things the caller may not know exist: hidden looks like missing."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request is well-formed but the current state does not allow it."""

    status = 409
    code = "conflict"


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"


class PayloadTooLarge(DomainError):
    """The request body (or an uploaded file) is larger than the endpoint takes."""

    status = 413
    code = "too_large"


class ServiceUnavailable(DomainError):
    """Something the action needs besides the database (Redis) is away; try again soon."""

    status = 503
    code = "unavailable"


#: How long a client is asked to wait (``Retry-After``) when the database is away: a
#: PostgreSQL restart or failover takes seconds, and the retry is cheap.
DATABASE_RETRY_AFTER_SECONDS = 1


class DatabaseUnavailable(DomainError):
    """The database did not answer (restarting, failing over, out of connections). Nothing
    was done, or it rolled back: the same request may be sent again after
    ``Retry-After`` seconds (with the same ``Idempotency-Key`` where the endpoint takes one)."""

    status = 503
    code = "database_unavailable"

    def __init__(self):
        super().__init__(
            str(_("The database is not answering just now; try again in a moment.")),
            details={"retry_after_seconds": DATABASE_RETRY_AFTER_SECONDS},
        )


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` says the database connection failed (not a bad query): Django's
    ``OperationalError`` (refused, reset, server starting up or shutting down, a conflict
    the server aborted) and ``InterfaceError`` (a connection already closed)."""
    return isinstance(exc, DjangoOperationalError | DjangoInterfaceError)


def database_unavailable_response(*, rest: bool = True):
    """The 503 answer (DRF ``Response`` if ``rest``, else a ``JsonResponse``)."""
    body = DatabaseUnavailable().as_body()
    response = Response(body, status=503) if rest else JsonResponse(body, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


class TooDeeplyNested(drf.ParseError):
    """A JSON body nested deeper than ``core.parsers.MAX_JSON_DEPTH``."""

    default_code = "too_deeply_nested"


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"code": code, "message": message, "details": details or {}}


def error_frame(exc: Exception, *, ref: str | None = None, logged: bool = False) -> dict:
    """The websocket rendering of an error: the same body inside an ``error`` frame.
    An unexpected exception is logged with its traceback unless the caller ``logged`` it."""
    if isinstance(exc, DomainError):
        body = exc.as_body()
    elif isinstance(exc, DjangoValidationError):
        body = error_body("invalid", "; ".join(exc.messages), _validation_details(exc))
    elif is_database_unavailable(exc):
        # Nothing was written: the client sends the same frame again (same client_msg_id).
        logger.warning("database unavailable in websocket action: %s", exc)
        body = DatabaseUnavailable().as_body()
    else:
        if not logged:
            logger.error("unexpected error in websocket action", exc_info=exc)
        body = error_body("server_error", str(_("The server could not complete this action.")))
    frame = {"type": "error", **body}
    if ref is not None:
        frame["ref"] = ref
    return frame


def _validation_details(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "message_dict"):
        return {"fields": exc.message_dict}
    return {}


_DRF_CODES = {
    TooDeeplyNested: ("too_deeply_nested", None),
    drf.ParseError: ("malformed_request", None),
    drf.AuthenticationFailed: ("authentication_failed", None),
    drf.NotAuthenticated: ("not_authenticated", None),
    drf.PermissionDenied: ("permission_denied", None),
    drf.NotFound: ("not_found", None),
    drf.MethodNotAllowed: ("method_not_allowed", None),
    drf.NotAcceptable: ("not_acceptable", None),
    drf.UnsupportedMediaType: ("unsupported_media_type", None),
    drf.Throttled: ("throttled", None),
}


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            text = _first_message(value)
            return text if key in ("non_field_errors", "detail") else f"{key}: {text}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def api_exception_handler(exc, context):
    """DRF exception handler: domain errors, DRF errors and Django errors, one shape."""
    # Imported here: rest_framework.views loads the parser classes named in settings,
    # and core.parsers imports this module.
    from rest_framework.views import exception_handler as drf_default_handler

    if is_database_unavailable(exc):
        logger.warning("database unavailable: %s", exc)
        return database_unavailable_response()
    if isinstance(exc, DomainError):
        response = Response(exc.as_body(), status=exc.status)
        if exc.status == 503 and "retry_after_seconds" in exc.details:
            response["Retry-After"] = str(exc.details["retry_after_seconds"])
        if exc.status == 401:
            response["WWW-Authenticate"] = 'Token realm="api"'
        return response
    if isinstance(exc, DjangoValidationError):
        exc = drf.ValidationError(
            exc.message_dict if hasattr(exc, "message_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    response = drf_default_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500 (JSON, see below)

    if isinstance(exc, drf.ValidationError):
        details = {"fields": exc.detail} if isinstance(exc.detail, dict) else {"errors": exc.detail}
        body = error_body("invalid", _first_message(exc.detail), details)
    else:
        code = next((c for cls, (c, _) in _DRF_CODES.items() if isinstance(exc, cls)), None)
        code = code or getattr(exc, "default_code", "error")
        body = error_body(code, _first_message(exc.detail))
    response.data = body
    return response


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def json_not_found_or_default(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("not_found", str(_("No such resource."))), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def json_server_error_or_default(request):
    # Called while the exception is being handled: a database that is away is a 503
    # with Retry-After (the request may be sent again), not a 500.
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response(rest=False)
    if _wants_json(request):
        return JsonResponse(
            error_body("server_error", str(_("The server could not complete this request."))),
            status=500,
        )
    from django.views.defaults import server_error

    return server_error(request)


# --- the error shape in the OpenAPI schema -------------------------------------------------------

# Every operation may answer these, always with the one error shape, whatever else it declares.
ERROR_STATUSES = {
    "400": "Bad input: the message names the field (`details.fields`).",
    "401": "Not authenticated: no token, or a wrong one.",
    "403": "Your role may not do this.",
    "404": "No such thing, or not visible to you (hidden looks like missing).",
    "409": "Not allowed in the current state.",
    "413": "The request body is too large.",
    "415": "The body's media type is not accepted here (`unsupported_media_type`): send JSON.",
    "429": "Too many requests: slow down and retry later.",
    "503": "The database is not answering (`database_unavailable`): nothing was done; "
    "send the same request again after `Retry-After` seconds.",
}
#: Operations taking an ``Idempotency-Key`` header (``idempotency.api``) may also answer this.
IDEMPOTENCY_KEY_REUSED = (
    "`idempotency_key_reused`: this Idempotency-Key was already used for a different request."
)
ERROR_SCHEMA = {
    "type": "object",
    "description": 'Every error: `{"code": "...", "message": "...", "details": {...}}`.',
    "properties": {
        "code": {"type": "string", "description": "Stable machine code, e.g. `not_found`."},
        "message": {"type": "string", "description": "What went wrong, for a person."},
        "details": {
            "type": "object",
            "additionalProperties": {},
            "description": "Machine-readable context (may be empty).",
        },
    },
    "required": ["code", "message", "details"],
}


def declare_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the ``Error`` component, and every operation
    declaring :data:`ERROR_STATUSES` with it, so a generated client can read every answer.
    An error status an operation already declares keeps its description and gets the
    ``Error`` body if it has none."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if responses is None:
                continue
            statuses = dict(ERROR_STATUSES)
            if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])):
                statuses["422"] = IDEMPOTENCY_KEY_REUSED
            for status, description in statuses.items():
                declared = responses.setdefault(status, {"description": description})
                declared.setdefault("content", content)
    return result
