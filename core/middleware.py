"""Request-level guards every edge shares."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

from core.errors import (
    PayloadTooLarge,
    database_unavailable_response,
    error_body,
    is_database_unavailable,
)


def _with_nul(params) -> list[str]:
    return sorted(
        {k for k, values in params.lists() if "\x00" in k or any("\x00" in v for v in values)}
    )


class DatabaseUnavailableMiddleware:
    """A view that lost the database answers 503 ``database_unavailable`` with
    ``Retry-After`` (the API's own views get the same from ``core.errors``'s handler;
    ``handler500`` covers the middleware). Not a 500: nothing was done, try again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_unavailable(exception):
            return database_unavailable_response(rest=False)
        return None


class RejectNulBytesMiddleware:
    """A NUL character in a query parameter or a console form field is a 400 here, not a
    500 at PostgreSQL (text and jsonb cannot hold NUL).

    DRF serializers and Django form fields already refuse NUL; query strings and the
    console's free-text POST fields read without a form (reasons, notes) are the gap.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad = _with_nul(request.GET)
        if not bad and request.method == "POST" and not request.path.startswith("/api/"):
            bad = _with_nul(request.POST)  # the API's parsers and serializers do their own
        if bad:
            message = f"Parameter(s) {', '.join(map(repr, bad))} contain a NUL character."
            if request.path.startswith("/api/"):
                body = error_body("invalid_input", message, {"params": bad})
                return JsonResponse(body, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)


# --- Request bodies: bounded before anything reads them -----------------------------------


def body_limit_for(content_type: str) -> int:
    """The largest body a request of ``content_type`` may have.

    A multipart form may carry an upload (``UPLOAD_MAX_BYTES`` per file, plus its form);
    every other body (JSON, XML, a form) is held to ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
    """
    if content_type.lower().startswith("multipart/"):
        return settings.REQUEST_BODY_MAX_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large_body(limit: int) -> dict:
    return error_body(
        "too_large",
        f"The request body is larger than this endpoint takes ({limit} bytes).",
        {"limit_bytes": limit},
    )


class LimitRequestBodyMiddleware:
    """413 (``too_large``, the one error shape) for a body over :func:`body_limit_for`.

    Decided from Content-Length before the body is read. A body sent without one reaches
    Django only through ASGI, where :class:`LimitRequestBodyASGI` counts it as it arrives.
    A console form's upload over ``UPLOAD_MAX_BYTES`` is refused here too, while it is
    read (:class:`UploadSizeLimitHandler`), before the CSRF check reads the form.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = body_limit_for(request.content_type or "")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body it cannot size
        if length > limit:
            return JsonResponse(too_large_body(limit), status=413)
        if (
            request.method == "POST"
            and (request.content_type or "").startswith("multipart/")
            and not request.path.startswith("/api/")  # DRF's parsers answer for the API
        ):
            try:
                request.FILES  # noqa: B018  (parse now, so a refusal is answered here)
            except PayloadTooLarge as exc:
                return JsonResponse(exc.as_body(), status=exc.status)
        return self.get_response(request)


class LimitRequestBodyASGI:
    """ASGI wrapper for Django's HTTP app: a body is counted as it arrives, and one over
    :func:`body_limit_for` is answered 413 without being read further.

    Django's ASGI handler reads the whole body (to a temporary file) before any
    middleware runs, so a body without Content-Length (chunked) can only be bounded here.
    On overflow Django is told the client left (it stops, answering nothing) and this
    wrapper sends the 413.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        limit = body_limit_for(headers.get(b"content-type", b"").decode("latin-1"))
        received = 0
        overflowed = False
        started = False

        async def bounded_receive():
            nonlocal received, overflowed
            if overflowed:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflowed = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            declared = int(headers.get(b"content-length", b"") or 0)
        except ValueError:
            declared = 0
        if declared <= limit:
            await self.app(scope, bounded_receive, tracking_send)
        if (declared > limit or overflowed) and not started:
            body = json.dumps(too_large_body(limit)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


class UploadSizeLimitHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: counts each uploaded file as its chunks arrive
    and raises :class:`core.errors.PayloadTooLarge` past ``UPLOAD_MAX_BYTES``; the
    handlers after it (memory, then temporary file) keep what it passes on."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        limit = settings.UPLOAD_MAX_BYTES
        if self.received > limit:
            raise PayloadTooLarge(
                _("The file %(file_name)s is larger than %(limit_mb)s MB.")
                % {"file_name": repr(self.file_name), "limit_mb": limit // (1024 * 1024)},
                details={"file": self.field_name, "limit_bytes": limit},
            )
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler builds the file
