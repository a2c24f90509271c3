"""More sections of a crisis's record, registered by the apps that own them.

``records`` sits above every domain app and imports them, but a section that belongs to
another app (the after-action review) is offered by that app, so the record grows without
``records`` knowing its models::

    # review/apps.py, in ready()
    from records import sections
    from review.selectors import review_for

    sections.register("review", review_for)

A section function takes ``(crisis, access)`` (or only ``crisis``, when what it returns is
the same for everyone who may export) and returns JSON-able data (a dict or a list), or
None to leave the section out of this crisis's record. It must only return what the
exporter may read, and only read: the export runs in a read-only snapshot transaction.
The archive writes it as ``sections/<name>.json`` (and, for a list of flat dicts,
``sections/<name>.csv``), lists it in the manifest with its SHA-256, and shows it in
``report.html`` as a table of its keys.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

SectionFn = Callable[..., Any]

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_sections: dict[str, SectionFn] = {}


def register(name: str, fn: SectionFn) -> None:
    """Add (or replace, on a second registration of the same name) a record section."""
    if not _NAME.match(name):
        raise ValueError(f"record section name {name!r}: lower-case letters, digits, - and _")
    _sections[name] = fn


def unregister(name: str) -> None:
    _sections.pop(name, None)


def registered() -> dict[str, SectionFn]:
    """The sections, by name, in name order."""
    return dict(sorted(_sections.items()))


def build(fn: SectionFn, crisis, access):
    """Call a section function with the arguments it takes (see the module doc)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: give it both
        return fn(crisis, access)
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes_more = any(p.kind == p.VAR_POSITIONAL for p in parameters)
    return fn(crisis, access) if len(positional) >= 2 or takes_more else fn(crisis)
