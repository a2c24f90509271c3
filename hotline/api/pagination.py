"""Messages page by sequence number, not by page: resume from the last seq you have."""

from django.utils.translation import gettext as _
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from core.errors import InvalidInput


def int_param(request, name: str, default: int, *, minimum: int = 0, maximum=None) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(
            _("%(name)s must be an integer.") % {"name": name}, details={"param": name}
        ) from None
    if value < minimum or (maximum is not None and value > maximum):
        if maximum is None:
            why = _("%(name)s must be >= %(minimum)s.") % {"name": name, "minimum": minimum}
        else:
            why = _("%(name)s must be >= %(minimum)s and <= %(maximum)s.") % {
                "name": name,
                "minimum": minimum,
                "maximum": maximum,
            }
        raise InvalidInput(why, details={"param": name})
    return value


class SeqPagination(BasePagination):
    """``?after_seq=N&limit=M``: the next M items after seq N, in seq order."""

    default_limit = 100
    max_limit = 500

    def paginate_queryset(self, queryset, request, view=None):
        self.limit = int_param(
            request, "limit", self.default_limit, minimum=1, maximum=self.max_limit
        )
        rows = list(queryset[: self.limit + 1])
        self.has_more = len(rows) > self.limit
        return rows[: self.limit]

    def get_paginated_response(self, data):
        next_after = data[-1]["seq"] if data else None
        return Response({"results": data, "has_more": self.has_more, "next_after_seq": next_after})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "has_more"],
            "properties": {
                "results": schema,
                "has_more": {"type": "boolean"},
                "next_after_seq": {"type": "integer", "nullable": True},
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "after_seq",
                "in": "query",
                "required": False,
                "description": "Only items after this sequence number (default 0).",
                "schema": {"type": "integer", "minimum": 0},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"At most this many (default {self.default_limit}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
            },
        ]
