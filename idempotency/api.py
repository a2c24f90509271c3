"""The ``Idempotency-Key`` header on the API's action endpoints (an edge: DRF).

Decorate a view method with :func:`idempotent` and list :data:`IDEMPOTENCY_KEY` in its
``extend_schema(parameters=…)``; ``core.errors.declare_error_responses`` then documents
its 422. A POST without the header behaves as before.
"""

from __future__ import annotations

import functools

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from idempotency import services

HEADER = "Idempotency-Key"
#: Set on a response replayed from an earlier request with the same key.
REPLAYED_HEADER = "Idempotent-Replayed"

IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Makes a retry safe: send a new unique value (a UUID) with each action and the same "
        "value when you send that action again (after a timeout, a lost connection or a "
        "503). The action is done once; a retry gets the first answer again, marked "
        "`Idempotent-Replayed: true`. The same key with a different request is refused "
        "(422 `idempotency_key_reused`). Keys are kept for `RETENTION_IDEMPOTENCY_KEY_DAYS` "
        "(1 day)."
    ),
)


def idempotent(view_method):
    """Run the view method at most once per (caller, ``Idempotency-Key``); see
    ``idempotency.services`` for the guarantee. Only POSTs that carry the header."""

    @functools.wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        raw = request.headers.get(HEADER)
        if raw is None or request.method != "POST" or not request.user.is_authenticated:
            return view_method(view, request, *args, **kwargs)
        key = services.check_key(raw)
        # The raw body, not the parsed one: fingerprinting must not parse (a body the view
        # would refuse is refused by the view, in its own order) and a retry sends the
        # same bytes.
        request_fingerprint = services.fingerprint(
            method=request.method,
            path=request.path,
            content_type=request.content_type,
            body=request.body,
        )
        with transaction.atomic():
            row = services.claim(
                user=request.user,
                key=key,
                method=request.method,
                path=request.path,
                request_fingerprint=request_fingerprint,
            )
            if row.status_code is not None:
                replay = Response(row.response, status=row.status_code)
                replay[REPLAYED_HEADER] = "true"
                return replay
            response = view_method(view, request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                services.record(row, status_code=response.status_code, body=response.data)
            else:
                services.release(row)
        return response

    return wrapper
