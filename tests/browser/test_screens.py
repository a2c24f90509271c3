"""Every console page on any screen, and accessible (axe-core).

The pages are not listed here: they are found by following the console's own links from
the dashboard and the navigation (one page per URL name, on the demo data of
``seed_demo``), so a page another app adds is covered as soon as something links to it.
A console URL that answers GET but was never reached fails the test, with its name.

At 390 x 844 (a phone) no page scrolls sideways (``scrollWidth <= innerWidth``); at
1280 x 720 the page's primary action (``[data-primary-action]``, else the first submit
button in ``<main>`` not styled secondary, else its heading) is in view without
scrolling. axe-core finds no serious or critical violation at either size. Screenshots
of both sizes go to ``test-output/screens/`` (git-ignored).
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse

from tests.browser.conftest import OUTPUT, outside_browser_loop

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 720}}
SHOTS = OUTPUT / "screens"
#: Console URLs that are not pages for a signed-in person (they redirect, only answer to
#: a pending log-in, or are a fragment every page includes).
NOT_PAGES = {"console:logout", "console:login-code", "console:login-set-up", "console:attention"}
HREF = re.compile(r'href="([^"#]*)"')
BLOCKING = ("serious", "critical")


def console_patterns() -> dict[str, str]:
    """Every console URL name → its route (from the URL configuration, so new ones too)."""
    found: dict[str, str] = {}

    def walk(patterns, namespace, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                walk(p.url_patterns, ns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name and namespace == "console":
                found[f"console:{p.name}"] = prefix + str(p.pattern)

    walk(get_resolver().url_patterns, None, "")
    return found


def _dummy_kwargs(route: str) -> dict:
    kwargs = {}
    for conv, name in re.findall(r"<(?:(\w+):)?(\w+)>", route):
        kwargs[name] = 999999 if conv in ("int", "") else "x"
    return kwargs


def crawl(client: Client, start: list[str], limit: int = 80) -> dict[str, str]:
    """URL name → the first path of it reached by following console links."""
    seen: dict[str, str] = {}
    queue = list(start)
    visited = set()
    while queue and len(visited) < limit:
        path = queue.pop(0)
        if path in visited:
            continue
        visited.add(path)
        try:
            match = resolve(urlsplit(path).path)
        except Resolver404:
            continue
        name = f"{match.namespace}:{match.url_name}"
        if match.namespace != "console" or name in NOT_PAGES or name in seen:
            continue
        response = client.get(path, HTTP_HOST="127.0.0.1")
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        seen[name] = path
        for href in HREF.findall(response.content.decode()):
            href = unescape(href)
            if href.startswith("/") and not href.startswith("//") and "part=" not in href:
                queue.append(href)
    return seen


def _one_of_each_page_kind(coordinator) -> None:
    """What the demo data has none of, so that every console page is reached: a daily
    sitrep of the demo crisis, a drill under way (its run page, and the exercise banner on
    every page), a desk webhook (its delivery log page)."""
    from crisis.models import Crisis
    from directory.models import Desk
    from exercises.services import start_run
    from humanitarian.services.sitreps import post_situation_report
    from paging.services.webhooks import add_desk_webhook

    post_situation_report(crisis_id=Crisis.objects.filter(exercise=False).first().pk)
    start_run(by=coordinator, scenario_key="andaman-tsunami")
    add_desk_webhook(
        by=coordinator,
        desk=Desk.objects.filter(kind="national").order_by("code").first(),
        url="https://desk.example.org/hooks/crisis",
    )


@pytest.fixture
def demo(transactional_db):
    outside_browser_loop(call_command, "seed_demo", verbosity=0)
    coordinator = get_user_model().objects.get(username="coordinator")
    outside_browser_loop(_one_of_each_page_kind, coordinator)
    return coordinator


def _primary_action(page):
    for selector in (
        "[data-primary-action]",
        "main button[type=submit]:not(.secondary):not(.link)",
        "main h1",
    ):
        locator = page.locator(selector).first
        if locator.count() and locator.is_visible():
            return selector, locator
    return None, None


def test_every_console_page_fits_any_screen_and_passes_axe(people, demo, live_url):
    client = Client()
    client.force_login(demo)
    start = ["/"] + [
        reverse(name) for name, route in console_patterns().items() if "<" not in route
    ]
    pages = crawl(client, start)

    # Coverage: every console URL that answers GET is among the pages visited.
    missing = []
    for name, route in console_patterns().items():
        if name in pages or name in NOT_PAGES:
            continue
        status = client.get(reverse(name, kwargs=_dummy_kwargs(route)), HTTP_HOST="127.0.0.1")
        if status.status_code in (200, 404):
            missing.append(f"{name} ({route}): a page no console link reaches on the demo data")
    assert missing == [], "\n".join(missing)
    assert len(pages) >= 8, pages

    problems: list[str] = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    people.allow_console_error("status of 404")
    check_pages(people, demo, pages, problems)
    # The log-in page, signed out.
    check_pages(people, None, {"console:login": reverse("console:login")}, problems)
    assert problems == [], "\n".join(problems)


def check_pages(people, user, pages: dict[str, str], problems: list[str]) -> None:
    """Visit ``pages`` at both sizes as ``user``: overflow, primary action, axe, screenshots."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    for size, viewport in SIZES.items():
        page = people.new_page(user)
        page.set_viewport_size(viewport)
        for name, path in sorted(pages.items()):
            page.goto(path)
            page.wait_for_load_state("load")
            label = name.split(":")[1]
            page.screenshot(path=str(SHOTS / f"{label}-{size}.png"), full_page=True)
            width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            if width[0] > width[1]:
                wide = page.evaluate(WIDEST)
                problems.append(f"{size} {path}: scrollWidth {width[0]} > {width[1]}: {wide}")
            if size == "desktop":  # every page: its primary action in view at 1280x720
                selector, action = _primary_action(page)
                box = action.bounding_box() if action is not None else None
                if box is None or box["y"] + box["height"] > viewport["height"]:
                    problems.append(f"{size} {path}: primary action {selector} not in view: {box}")
            for violation in axe.run(page).response["violations"]:
                if violation["impact"] in BLOCKING:
                    targets = [n["target"] for n in violation["nodes"]][:3]
                    problems.append(
                        f"{size} {path}: axe {violation['id']} ({violation['impact']}): "
                        f"{violation['help']} {targets}"
                    )


#: The elements that stick out past the viewport's right edge (for the failure message).
WIDEST = """() => {
  const w = window.innerWidth, out = [];
  document.querySelectorAll("body *").forEach(el => {
    const r = el.getBoundingClientRect();
    if (r.right > w + 1 && out.length < 5) {
      const cls = typeof el.className === "string" && el.className ?
        "." + el.className.split(" ").join(".") : "";
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + cls +
        " right=" + Math.round(r.right));
    }
  });
  return out;
}"""
