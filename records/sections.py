"""More sections of a crisis's record, registered by the apps that own them.

``records`` sits above every domain app and imports them, but a section that belongs to
another app (the after-action review) is offered by that app, so the record grows without
``records`` knowing its models::

    # review/apps.py, in ready()
    from records import sections
    sections.register("review", review.selectors.review_for)

A section function takes ``(crisis, access)`` and returns JSON-able data (a dict or a
list), or None to leave the section out of this crisis's record. It must only return what
``access`` may read. The archive writes it as ``sections/<name>.json`` (and, for a list
of flat dicts, ``sections/<name>.csv``), lists it in the manifest with its SHA-256, and
shows it in ``report.html`` as a table of its keys.
"""

from __future__ import annotations

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
