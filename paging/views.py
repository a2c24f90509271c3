"""The acknowledgement page behind every paging link: ``/ack/<token>/``.

GET shows what would be acknowledged and for whom (it changes nothing: mail scanners
and link previews open links); POST acknowledges. Refusals are pages with their status
(400 invalid, 403 no longer on the desk, 409 used or over, 410 expired).
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.errors import DomainError
from paging.links import desk_time, link_expires_at, recipient_for_token
from paging.preferences import in_language_of
from paging.services import acknowledge_by_link
from paging.services.pages import check_link


@never_cache
@require_http_methods(["GET", "POST"])
def ack_view(request, token: str):
    recipient = None
    try:
        recipient = recipient_for_token(token, now=timezone.now())
        if request.method == "POST":
            page = acknowledge_by_link(token=token)
            at = page.acknowledged_at or timezone.now()
            return _render(request, recipient, done=True, at=at)
        check_link(recipient)
        return _render(request, recipient)
    except DomainError as exc:
        return _render(request, recipient, error=exc, status=exc.status)


def _render(request, recipient, *, done=False, at=None, error=None, status=200):
    context = {"done": done, "error": error}
    if recipient is not None:
        desk = recipient.page.desk
        context.update(
            page=recipient.page,
            desk=desk,
            person=recipient.user,
            expires=desk_time(link_expires_at(recipient), desk),
        )
        if at is not None:
            context["at"] = desk_time(at, desk)
    # In the paged person's language when they chose one (else the browser's).
    with in_language_of(recipient.user if recipient is not None else None):
        response = render(request, "paging/ack.html", context, status=status)
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    return response
