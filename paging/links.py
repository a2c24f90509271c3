"""Signed, single-use, expiring acknowledgement links (``/ack/<token>/``).

The token signs the recipient row's id and its nonce (``django.core.signing``), so it
cannot be guessed or pointed at another page; the row says whether it was used; it
expires ``PAGING_ACK_LINK_SECONDS`` after the page was created. The token is the same
for every message of one recipient, so a resent e-mail carries the same link.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import DomainError, InvalidInput
from paging.models import PageRecipient

SALT = "paging.ack"


class LinkExpired(DomainError):
    status = 410
    code = "link_expired"


def ack_token(recipient: PageRecipient) -> str:
    return signing.dumps({"r": recipient.pk, "n": recipient.link_nonce.hex}, salt=SALT)


def ack_url(recipient: PageRecipient) -> str:
    path = reverse("paging-ack", kwargs={"token": ack_token(recipient)})
    return settings.PAGING_BASE_URL.rstrip("/") + path


def desk_time(moment: datetime, desk) -> str:
    """``2026-12-01 22:58 Asia/Bangkok (2026-12-01 15:58 UTC)``: the desk's zone, UTC beside."""
    local, utc = moment.astimezone(desk.zone), moment.astimezone(UTC)
    return f"{local:%Y-%m-%d %H:%M} {desk.time_zone} ({utc:%Y-%m-%d %H:%M} UTC)"


def link_expires_at(recipient: PageRecipient) -> datetime:
    return recipient.page.created_at + timedelta(seconds=settings.PAGING_ACK_LINK_SECONDS)


def recipient_for_token(token: str, *, now: datetime) -> PageRecipient:
    """The recipient a token names; 400 if it is not one of ours, 410 once expired."""
    invalid = InvalidInput("This acknowledgement link is not valid.", code="invalid_link")
    try:
        data = signing.loads(token, salt=SALT)
        recipient_id, nonce = int(data["r"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise invalid from None
    recipient = (
        PageRecipient.objects.select_related("page", "page__desk", "user")
        .filter(pk=recipient_id)
        .first()
    )
    if recipient is None or recipient.link_nonce.hex != nonce:
        raise invalid
    if now >= link_expires_at(recipient):
        raise LinkExpired(
            _("This acknowledgement link has expired."),
            details={"expired_at": link_expires_at(recipient).isoformat()},
        )
    return recipient
