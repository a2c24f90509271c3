"""Screenshots of the console's main pages for the README and docs/console.md.

Run against a console with the demo data (``make run``, or any server after
``manage.py seed_demo``), with Debian's Chromium and Playwright (the test tools)::

    python scripts/screenshots.py --url http://127.0.0.1:8000 --user coordinator

Logs in through the log-in form (the demo's password, ``DEMO_PASSWORD``, default
"demo"; two-step login must be off, as ``make run`` has it), opens each page at
1280 x 800 (the map and the phone view at their own sizes) and writes
``docs/img/<name>.png``. Each file is checked to stay under 200 KB.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
LIMIT = 200_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def first_link(page, pattern: str) -> str | None:
    for href in page.eval_on_selector_all(
        "main a[href]", "els => els.map(e => e.getAttribute('href'))"
    ):
        if re.fullmatch(pattern, href or ""):
            return href
    return None


def main() -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="coordinator")
    parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "demo"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium")
    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport=DESKTOP, base_url=args.url)
        page = context.new_page()
        page.goto("/login/")
        page.get_by_label("Username").fill(args.user)
        page.get_by_label("Password").fill(args.password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_selector("body[data-socket-state=open]", state="attached")

        def shot(name: str, path: str, *, viewport=DESKTOP, full: bool = False):
            page.set_viewport_size(viewport)
            page.goto(path)
            page.wait_for_selector("body[data-socket-state=open]", state="attached")
            page.wait_for_load_state("networkidle")
            target = OUT / f"{name}.png"
            page.screenshot(path=str(target), full_page=full)
            written.append(target)

        shot("dashboard", "/")
        crisis = first_link(page, r"/crises/\d+/")
        line = first_link(page, r"/lines/\d+/")
        if crisis:
            shot("crisis", crisis)
        if line:
            shot("line", line)
        shot("aid-board", "/aid/")
        shot("map", "/map/")
        shot("dashboard-phone", "/", viewport=PHONE)
        browser.close()
    too_big = [f"{p.name}: {p.stat().st_size} bytes" for p in written if p.stat().st_size > LIMIT]
    for p in written:
        print(f"{p.relative_to(ROOT)}  {p.stat().st_size // 1024} KB")
    if too_big:
        print("Over 200 KB:", *too_big, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
