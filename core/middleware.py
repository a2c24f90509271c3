"""Request-level guards every edge shares."""

from __future__ import annotations

from django.http import HttpResponseBadRequest, JsonResponse

from core.errors import error_body


def _with_nul(params) -> list[str]:
    return sorted(
        {k for k, values in params.lists() if "\x00" in k or any("\x00" in v for v in values)}
    )


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
