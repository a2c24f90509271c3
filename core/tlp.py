"""The Traffic Light Protocol (FIRST TLP 2.0): who may see an item, in words people use.

One vocabulary for every surface that carries a marking (hotline messages, situation
updates, attachments, STIX objects, exports). The levels, from widest to narrowest:

- CLEAR: no limit on disclosure.
- GREEN: the recipients' community (here: every desk of the service), not public.
- AMBER: the recipients' organisations and their clients, on a need-to-know basis.
- AMBER+STRICT: the recipients' organisations only.
- RED: the named recipients only; it never leaves them (no export, no forward).

What each level allows on each surface is decided where that surface lives; this module
only names the levels and orders them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TLP(models.TextChoices):
    CLEAR = "CLEAR", _("TLP:CLEAR — may be shared without limit")
    GREEN = "GREEN", _("TLP:GREEN — within the community of desks, not public")
    AMBER = "AMBER", _("TLP:AMBER — recipients' organisations, need to know")
    AMBER_STRICT = "AMBER+STRICT", _("TLP:AMBER+STRICT — recipients' organisations only")
    RED = "RED", _("TLP:RED — named recipients only")


#: Widest first: a higher index is a narrower audience.
ORDER = (TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED)


def narrower(a: str, b: str) -> str:
    """The more restrictive of two markings (a forward or a bundle takes the narrowest)."""
    return a if ORDER.index(TLP(a)) >= ORDER.index(TLP(b)) else b


def label(value: str) -> str:
    """``TLP:AMBER+STRICT``: the marking as it is written on a document."""
    return f"TLP:{TLP(value).value}"
