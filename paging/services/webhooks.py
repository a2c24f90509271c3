"""Desk webhooks: a desk's own systems, told of the desk's pages (``page.opened``,
``page.acknowledged``, ``page.closed``) by HTTP POSTs signed per Standard Webhooks.

Managed by the desk's supervisors and by coordinators (any desk). The secret
(``whsec_`` + base64 of 24 random bytes) is returned once, when the webhook is made or
its secret rotated; afterwards it is never shown. Delivery is the attempt machinery's
(``paging.services.delivery``): retried with backoff, every try in the log.
"""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from core.access import access_for
from core.errors import InvalidInput, NotFound
from directory.models import Desk, Role
from paging.models import DeskWebhook, Urgency

MANAGING_ROLES = frozenset({Role.SUPERVISOR, Role.COORDINATOR})


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def require_manage(access, desk: Desk | int) -> None:
    """Coordinators manage every desk's webhooks; a desk's supervisors their own (404
    off the desk, 403 for its other roles)."""
    if access.is_coordinator:
        return
    access.require_act_for(desk, roles=MANAGING_ROLES)


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    schemes = ["https"] if settings.PAGING_WEBHOOK_REQUIRE_HTTPS else ["https", "http"]
    try:
        URLValidator(schemes=schemes)(url)
    except ValidationError:
        need = "an https:// URL" if settings.PAGING_WEBHOOK_REQUIRE_HTTPS else "an http(s) URL"
        raise InvalidInput(
            _("The webhook address must be %(need)s.") % {"need": need},
            code="invalid_url",
            details={"url": url},
        ) from None
    return url


def _clean_urgencies(urgencies) -> list[str]:
    urgencies = list(urgencies or [])
    unknown = sorted({str(u) for u in urgencies} - set(Urgency.values))
    if unknown:
        raise InvalidInput(
            _("Unknown urgency: %(unknown)s.") % {"unknown": ", ".join(unknown)},
            code="unknown_urgency",
            details={"known": list(Urgency.values)},
        )
    return sorted(set(urgencies), key=list(Urgency.values).index)


def add_desk_webhook(
    *, by, desk: Desk, url: str, description: str = "", urgencies=None
) -> tuple[DeskWebhook, str]:
    """Add a webhook to ``desk``; returns it and its secret (shown this once)."""
    require_manage(access_for(by), desk)
    secret = new_secret()
    with transaction.atomic():
        hook = DeskWebhook.objects.create(
            desk=desk,
            url=_clean_url(url),
            description=description[:200],
            urgencies=_clean_urgencies(urgencies),
            secret=secret,
            created_by=by,
        )
    return hook, secret


def _managed(by, webhook_id: int) -> DeskWebhook:
    hook = DeskWebhook.objects.select_for_update().filter(pk=webhook_id).first()
    if hook is None:
        raise NotFound(_("No such webhook."))
    access = access_for(by)
    if not access.is_coordinator and not access.can_act_for(hook.desk_id, roles=MANAGING_ROLES):
        raise NotFound(_("No such webhook."))
    return hook


def update_desk_webhook(*, by, webhook_id: int, **changes) -> DeskWebhook:
    """Change a webhook's ``url``, ``description``, ``is_active`` or ``urgencies``."""
    with transaction.atomic():
        hook = _managed(by, webhook_id)
        if "url" in changes:
            hook.url = _clean_url(changes["url"])
        if "description" in changes:
            hook.description = str(changes["description"])[:200]
        if "is_active" in changes:
            hook.is_active = bool(changes["is_active"])
        if "urgencies" in changes:
            hook.urgencies = _clean_urgencies(changes["urgencies"])
        hook.save()
    return hook


def rotate_webhook_secret(*, by, webhook_id: int) -> tuple[DeskWebhook, str]:
    """A new secret (returned this once); posts from now on are signed with it."""
    with transaction.atomic():
        hook = _managed(by, webhook_id)
        hook.secret = new_secret()
        hook.save(update_fields=["secret"])
    return hook, hook.secret


def remove_desk_webhook(*, by, webhook_id: int) -> None:
    """Remove a webhook; its queued posts fail ("removed") and its log stays."""
    with transaction.atomic():
        _managed(by, webhook_id).delete()
