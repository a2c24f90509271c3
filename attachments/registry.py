"""What an attachment hangs on. The apps that own the items register a :class:`Host` per
kind (``hotline.message``, ``crisis.situation_update``, ``humanitarian.request``) at
start-up, so this app imports none of them (docs/architecture.md: a lower layer offers a
registry the higher layer fills).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    """An item as the caller may see it (hosts return one only then)."""

    tlp: str | None  # the item's own marking (None: the item has none)
    #: ``(desk_id, state_id)`` of who the item is for: its stored recipients if its
    #: marking is narrow, else the desks of its container now (line, crisis).
    recipients: tuple[tuple[int, int | None], ...]
    #: The desk whose people may attach files to it (its author's desk).
    author_desk_id: int | None
    label: str  # e.g. "message #3 on line 7"


@dataclass(frozen=True)
class Host:
    kind: str
    #: ``(access, object_id) -> Item``; raises ``core.errors.NotFound`` if the caller
    #: may not see the item (hidden and missing alike).
    item_for: Callable[[object, int], Item]
    #: The marking of a new attachment when the uploader gives none and the item has none.
    default_tlp: str


HOSTS: dict[str, Host] = {}


def register_host(host: Host) -> None:
    HOSTS[host.kind] = host
