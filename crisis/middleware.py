"""Request-level guards every edge shares."""

from __future__ import annotations

from django.http import HttpResponseBadRequest, JsonResponse

from crisis.errors import error_body


class RejectNulBytesMiddleware:
    """A NUL byte in a query parameter is a 400 here, not a 500 at PostgreSQL.

    PostgreSQL text cannot hold NUL, so any filter that reaches the database with one fails;
    DRF serializers and Django forms already refuse NUL in bodies, query strings are the gap.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad = sorted(
            {
                k
                for k, values in request.GET.lists()
                if "\x00" in k or any("\x00" in v for v in values)
            }
        )
        if bad:
            message = f"Query parameter(s) {', '.join(map(repr, bad))} contain a NUL byte."
            if request.path.startswith("/api/"):
                body = error_body("invalid_input", message, {"params": bad})
                return JsonResponse(body, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)
