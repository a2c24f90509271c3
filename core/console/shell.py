"""The console's shell: current desk, rendering, errors, nav and dashboard panels.

Each app keeps its own console pages (``<app>/console/``, templates under
``<app>/templates/<app>/console/``); the frame they share lives here, with small
registries so apps add navigation entries, panels and banners (shown at the top of
every page, e.g. the exercise banner) without the shell (or ``crisis``) importing them.
The caller's access comes from ``core.access`` (the directory's ``Access``): desks,
roles and reach.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.access import access_for
from core.errors import DomainError

SESSION_DESK_KEY = "console_desk_id"


# --- the current desk ---------------------------------------------------------------------
def current_desk(request: HttpRequest):
    """The desk the person works for in this session (validated against memberships).

    The desk switcher stores a desk id in the session; a stale id (membership removed,
    desk deactivated) falls back to the person's default desk.
    """
    access = access_for(request.user)
    stored = request.session.get(SESSION_DESK_KEY)
    for desk in access.desks():
        if desk.pk == stored:
            return desk
    return access.default_desk() or next(iter(access.desks()), None)


def switch_desk(request: HttpRequest, desk_id: int):
    """Make ``desk_id`` the current desk if the person is on it; None otherwise."""
    for desk in access_for(request.user).desks():
        if desk.pk == desk_id:
            request.session[SESSION_DESK_KEY] = desk.pk
            return desk
    return None


# --- registries: apps add to the console without the shell importing them ---------------
@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    order: int = 100


@dataclass(frozen=True)
class Panel:
    """A box another app adds to a console page (``place``: "dashboard" or "crisis").

    ``build(request, access, desk, **objects)`` returns ``(template_name, context)``, or
    None to show nothing (e.g. nothing to report for this desk).
    """

    place: str
    key: str
    build: Callable[..., tuple[str, dict] | None]
    order: int = 100
    live_on: str = ""  # event types that refresh it (see console.js data-live-on)


@dataclass(frozen=True)
class Banner:
    """A line at the top of every console page of a person (``register_banner``), or of one
    page (a view's ``page_banners`` context).

    ``text`` is the headline (e.g. "EXERCISE EXERCISE EXERCISE"), ``detail`` a sentence
    under it, ``links`` ``(label, url)`` pairs, ``tone`` the CSS class (``exercise``).
    Banners share a ``key``: the first of a key shown wins (the shell's before a page's).
    """

    key: str
    text: str
    detail: str = ""
    links: tuple[tuple[str, str], ...] = ()
    tone: str = "info"


@dataclass(frozen=True)
class AttentionItem:
    """Something the desk must still act on (acknowledge …), shown on every page."""

    key: str  # stable, e.g. "message:12" (tests and the page's title use it)
    text: str
    link: str
    action: str = ""  # what to do, e.g. "Acknowledge"


_nav: dict[str, NavEntry] = {}
_panels: dict[tuple[str, str], Panel] = {}
_banners: dict[str, Callable[..., Banner | None]] = {}
_attention: dict[str, Callable[..., list[AttentionItem]]] = {}


def register_nav(label: str, url_name: str, *, order: int = 100) -> None:
    _nav[url_name] = NavEntry(label, url_name, order)


def register_panel(place: str, key: str, build, *, order: int = 100, live_on: str = "") -> None:
    _panels[(place, key)] = Panel(place, key, build, order, live_on)


def register_banner(key: str, build) -> None:
    """Add a banner to every console page: ``build(request, access, desk)`` returns a
    :class:`Banner`, or None to show nothing for this person (it runs on every page:
    keep it to one query)."""
    _banners[key] = build


def banners_for(request, access, desk, *, page: list[Banner] | tuple = ()) -> list[Banner]:
    """The registered banners that apply to this person, then the page's own (``page``),
    one per key."""
    out: dict[str, Banner] = {}
    for key in sorted(_banners):
        banner = _banners[key](request, access, desk)
        if banner is not None:
            out.setdefault(banner.key, banner)
    for banner in page:
        out.setdefault(banner.key, banner)
    return list(out.values())


def register_attention(key: str, build) -> None:
    """``build(access, desk)`` returns the desk's :class:`AttentionItem` list (unhandled
    flash messages, escalation levels to acknowledge …): the shell shows them on every
    page until they are handled."""
    _attention[key] = build


def attention_items(access, desk) -> list[AttentionItem]:
    if desk is None or not access.is_authenticated:
        return []
    items: list[AttentionItem] = []
    for key in sorted(_attention):
        items.extend(_attention[key](access, desk))
    return items


def nav_entries() -> list[NavEntry]:
    return sorted(_nav.values(), key=lambda e: (e.order, e.label))


def panels_for(
    place: str, request, access, desk, *, only: str | None = None, **objects
) -> list[dict]:
    """Panels of ``place`` ready to include: ``[{"key", "template", "context", "live_on"}]``."""
    out = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        if panel.place != place or (only is not None and panel.key != only):
            continue
        built = panel.build(request, access, desk, **objects)
        if built is not None:
            template, context = built
            out.append(
                {"key": panel.key, "template": template, "context": context,
                 "live_on": panel.live_on}
            )  # fmt: skip
    return out


# --- rendering -----------------------------------------------------------------------------
def render_console(
    request: HttpRequest, template: str, context: dict | None = None, *, status: int = 200
) -> HttpResponse:
    """Render a console page with the frame's context (desk, desks, nav, access).

    ``?part=<name>`` renders only ``<template dir>/parts/<name>.html`` with the same
    context: the live regions of a page re-fetch themselves that way when an event says
    something changed.
    """
    access = access_for(request.user)
    desk = current_desk(request) if access.is_authenticated else None
    part = request.GET.get("part")
    ctx = {
        "access": access,
        "desk": desk,
        "my_desks": access.desks(),
        "nav": nav_entries(),
        # Not for a live region's fragment: only whole pages show it.
        "attention": attention_items(access, desk) if desk is not None and not part else [],
        **(context or {}),
    }
    parts = (context or {}).get("parts", ())
    if not part and access.is_authenticated:
        # Parts are pieces of a page already framed: its banners are on it.
        ctx["banners"] = banners_for(
            request, access, desk, page=(context or {}).get("page_banners", ())
        )
    if part == "panel":
        # One panel of the page, alone (its live region re-fetches itself this way).
        return render(request, "console/panel.html", ctx, status=status)
    if part and part in parts:
        folder = template.rsplit("/", 1)[0]
        return render(request, f"{folder}/parts/{part}.html", ctx, status=status)
    return render(request, template, ctx, status=status)


class AdminDeskTimeZoneMiddleware:
    """The admin shows and reads times in the person's current desk's zone, as the console
    does (its date formats carry the zone: config/formats/). The API stays in UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not request.path.startswith("/admin/"):
            return self.get_response(request)
        with timezone.override(getattr(current_desk(request), "zone", None)):
            return self.get_response(request)


def zone_help(desk) -> str:
    """What a time input says under it: whose clock it is read on."""
    zone = getattr(desk, "time_zone", None) or "UTC"
    if zone == "UTC":
        return _("Type the time in UTC.")
    return _("Type the time in your desk's zone, %(zone)s; it is stored in UTC.") % {"zone": zone}


def render_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render_console(
        request,
        "console/error.html",
        {"error": exc, "status": exc.status},
        status=exc.status,
    )


def run_action(request: HttpRequest, action: Callable[[], object], *, success, redirect_to: str):
    """Call one service; its refusal becomes an error message on the page it returns to.

    ``success`` is the message text, or a function of the action's result returning it.
    Used by the console's POST views (post/redirect/get).
    """
    try:
        result = action()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if success:
            messages.success(request, success(result) if callable(success) else success)
    return redirect(redirect_to)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The form's ``next`` if it stays on this site, else ``fallback``."""
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def console_view(view):
    """Log-in required; a domain error becomes an error page with its status (404 …).

    The request runs in the current desk's time zone (Django's current time zone), so a
    time typed in a form (a ``DateTimeField``) is read as the desk's local time and stored
    as the right UTC instant; pages show times with ``dual_time`` (local, UTC beside)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        zone = getattr(current_desk(request), "zone", None)
        with timezone.override(zone):
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return render_error(request, exc)

    return login_required(wrapper, login_url="console:login")
