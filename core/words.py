"""Words people read for our internal names: an event or timeline kind
(``assistance.pledge_delivered``) as "Assistance pledge delivered", never the dotted
name or an enum's repr. Used by the console's templates and the admin's list columns."""

from __future__ import annotations


def event_words(kind: str | None) -> str:
    """``assistance.pledge_delivered`` → "Assistance pledge delivered"; ``status_changed``
    → "Status changed"; an empty kind → "—"."""
    text = " ".join(part.replace("_", " ").strip() for part in str(kind or "").split("."))
    text = " ".join(text.split())
    return text[:1].upper() + text[1:] if text else "—"
