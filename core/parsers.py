"""The API's JSON parser, bounded in size and depth.

DRF's own ``JSONParser`` reads the whole body (Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``
is not applied to a stream DRF reads itself) and lets Python's recursion limit decide how
deep a document may nest: ``[[[[…]]]]`` ten thousand deep was a 500. This one reads at
most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (413 ``too_large`` beyond) and refuses a
document nested deeper than ``MAX_JSON_DEPTH`` (400 ``too_deeply_nested``). It is the
default parser in ``REST_FRAMEWORK`` (``config/settings.py``, "Input bounds").
"""

from __future__ import annotations

import json

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core.errors import PayloadTooLarge, TooDeeplyNested

#: No request of ours nests deeper than a handful of levels; 32 leaves room.
MAX_JSON_DEPTH = 32


def _depth_exceeds(value, limit: int) -> bool:
    """True if ``value`` nests lists/objects more than ``limit`` deep (iterative walk)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _too_deep() -> TooDeeplyNested:
    return TooDeeplyNested(
        _("The JSON body is nested more than %(n)s levels deep.") % {"n": MAX_JSON_DEPTH}
    )


class BoundedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        size = -1 if limit is None else limit + 1  # one byte past the limit, never all
        body = stream.read(size) if stream is not None else b""
        if limit is not None and len(body) > limit:
            raise PayloadTooLarge(
                _("The request body is larger than %(n)s bytes.") % {"n": limit},
                details={"limit_bytes": limit},
            )
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(body.decode(encoding), parse_constant=_refuse_constant)
        except RecursionError as exc:
            raise _too_deep() from exc
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            # Python's own reason stays in English: no catalogue has it.
            raise ParseError(_("JSON parse error - %(problem)s") % {"problem": exc}) from exc
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            raise _too_deep()
        return data


def _refuse_constant(name: str):
    # NaN and Infinity are not JSON (DRF's parser refuses them too, when strict).
    raise ValueError(f"{name} is not a JSON value")


class RawXmlParser(parsers.BaseParser):
    """Hands an XML body through as bytes, for a strict reader of its own (CAP, EDXL-RM):
    at most ``max_bytes`` are read (one byte past is a 413 naming ``what``), never the
    whole of a larger body. Subclass with :func:`raw_xml_parsers` for a document type."""

    media_type = "application/xml"
    max_bytes = 0
    what = gettext_lazy("XML document")

    def parse(self, stream, media_type=None, parser_context=None):
        if stream is None:
            return b""
        body = stream.read(self.max_bytes + 1)
        if len(body) > self.max_bytes:
            raise PayloadTooLarge(
                _("The %(what)s is larger than %(kib)s KiB.")
                % {"what": self.what, "kib": self.max_bytes // 1024},
                details={"limit_bytes": self.max_bytes},
            )
        return body


def raw_xml_parsers(*, what: str, max_bytes: int, media_types=("application/xml", "text/xml")):
    """One :class:`RawXmlParser` per media type, each bounded to ``max_bytes``."""
    return [
        type(
            f"RawXmlParser_{kind.replace('/', '_').replace('+', '_')}",
            (RawXmlParser,),
            {"media_type": kind, "max_bytes": max_bytes, "what": what},
        )
        for kind in media_types
    ]
