"""Paging in the console: a person's own contact methods (add, verify with the code
they were sent, send a new code, remove) and, for a desk's supervisors and the
coordinators, the desk's webhooks (add, rotate the secret, pause, remove, the log of
deliveries). Writes call ``paging.services``; a refusal is shown as a message.

A secret is shown once, on the page the add or rotate returns to (kept in the session
for that one page, then dropped), never again.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.console.shell import console_view, current_desk, render_console, run_action
from core.errors import DomainError, NotFound
from core.words import event_words as event_words_of
from directory.access import access_for
from paging import selectors
from paging.models import ContactKind, Urgency
from paging.services import contacts
from paging.services import webhooks as hooks_service
from paging.transports import offered_kinds

SECRET_KEY = "console_webhook_secret"
DELIVERIES_SHOWN = 50


def event_words(event: str) -> str:
    """A webhook event's name as people say it ("page.opened" → "Page opened")."""
    words = {
        "page.opened": _("Page opened"),
        "page.acknowledged": _("Page acknowledged"),
        "page.closed": _("Page closed"),
    }
    return words.get(event) or event_words_of(event)


# --- contact methods ----------------------------------------------------------------------


@console_view
def contact_methods(request):
    if request.method == "POST":
        post = request.POST
        try:
            method = contacts.add_contact_method(
                user=request.user,
                kind=post.get("kind", ""),
                address=post.get("address", ""),
                label=post.get("label", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Added. We sent a code to %(address)s: type it below to verify.")
                % {"address": method.address},
            )
        return redirect("console:contact-methods")
    kinds = dict(ContactKind.choices)
    return render_console(
        request,
        "paging/console/contact_methods.html",
        {
            "methods": list(selectors.contact_methods_of(request.user)),
            "kinds": [(k, kinds.get(k, k)) for k in offered_kinds()],
            "desk": current_desk(request),
        },
    )


@require_POST
@console_view
def verify_method(request, pk: int):
    return run_action(
        request,
        lambda: contacts.verify_contact_method(
            user=request.user, method_id=pk, code=request.POST.get("code", "")
        ),
        success=_("Verified: pages can reach you this way."),
        redirect_to=reverse("console:contact-methods"),
    )


@require_POST
@console_view
def resend_code(request, pk: int):
    return run_action(
        request,
        lambda: contacts.send_verification_code(user=request.user, method_id=pk),
        success=_("A new code is on its way; the old one no longer works."),
        redirect_to=reverse("console:contact-methods"),
    )


@require_POST
@console_view
def remove_method(request, pk: int):
    return run_action(
        request,
        lambda: contacts.remove_contact_method(user=request.user, method_id=pk),
        success=_("Contact method removed."),
        redirect_to=reverse("console:contact-methods"),
    )


# --- desk webhooks ------------------------------------------------------------------------


def _managed_desks(access):
    """The desks whose webhooks the caller manages (coordinators: every desk of theirs
    plus any; the page offers the caller's own desks)."""
    return [d for d in access.desks() if access.is_coordinator or access.role_on(d) == "supervisor"]


def _webhook(access, pk: int):
    hook = selectors.webhooks_managed_by(access).filter(pk=pk).first()
    if hook is None:
        raise NotFound(_("No such webhook."))
    return hook


@console_view
def webhooks(request):
    access = access_for(request.user)
    desks = _managed_desks(access)
    if request.method == "POST":
        post = request.POST
        desk = next((d for d in desks if str(d.pk) == post.get("desk")), None)
        if desk is None:
            messages.error(request, _("Choose one of your desks."))
            return redirect("console:webhooks")
        try:
            hook, secret = hooks_service.add_desk_webhook(
                by=request.user,
                desk=desk,
                url=post.get("url", ""),
                description=post.get("description", ""),
                urgencies=post.getlist("urgencies"),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("console:webhooks")
        request.session[SECRET_KEY] = {"id": hook.pk, "secret": secret}
        messages.success(request, _("Webhook added."))
        return redirect("console:webhook", pk=hook.pk)
    current = current_desk(request)
    return render_console(
        request,
        "paging/console/webhooks.html",
        {
            "hooks": list(selectors.webhooks_managed_by(access)),
            "desks": desks,
            "current": current,
            "urgencies": Urgency.choices,
        },
    )


@console_view
def webhook(request, pk: int):
    access = access_for(request.user)
    hook = _webhook(access, pk)
    shown = request.session.pop(SECRET_KEY, None)
    secret = shown["secret"] if shown and shown.get("id") == hook.pk else None
    labels = dict(Urgency.choices)
    deliveries = list(selectors.webhook_deliveries(hook)[:DELIVERIES_SHOWN])
    for attempt in deliveries:
        attempt.event_words = event_words((attempt.payload or {}).get("type", ""))
    return render_console(
        request,
        "paging/console/webhook.html",
        {
            "hook": hook,
            "secret": secret,
            "urgency_words": [labels.get(u, u) for u in hook.urgencies],
            "deliveries": deliveries,
        },
    )


@require_POST
@console_view
def rotate_secret(request, pk: int):
    hook = _webhook(access_for(request.user), pk)
    try:
        hook, secret = hooks_service.rotate_webhook_secret(by=request.user, webhook_id=hook.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        request.session[SECRET_KEY] = {"id": hook.pk, "secret": secret}
        messages.success(request, _("New secret made: posts from now on are signed with it."))
    return redirect("console:webhook", pk=pk)


@require_POST
@console_view
def set_active(request, pk: int):
    hook = _webhook(access_for(request.user), pk)
    active = request.POST.get("active") == "1"
    return run_action(
        request,
        lambda: hooks_service.update_desk_webhook(
            by=request.user, webhook_id=hook.pk, is_active=active
        ),
        success=_("Webhook resumed.") if active else _("Webhook paused."),
        redirect_to=reverse("console:webhook", kwargs={"pk": pk}),
    )


@require_POST
@console_view
def remove_webhook(request, pk: int):
    hook = _webhook(access_for(request.user), pk)
    return run_action(
        request,
        lambda: hooks_service.remove_desk_webhook(by=request.user, webhook_id=hook.pk),
        success=_("Webhook removed."),
        redirect_to=reverse("console:webhooks"),
    )
