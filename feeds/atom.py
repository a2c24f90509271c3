"""Our own CAP feed: the alerts this service issued, as an Atom 1.0 feed (feedgen), each
entry linking to its CAP 1.2 document (``application/cap+xml``), as national alerting
authorities publish theirs."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.utils import timezone
from feedgen.feed import FeedGenerator
from lxml import etree

from core.exercise import EXERCISE_MARK
from core.text import sanitize_for_xml
from crisis.models import CapAlert


def _headline(alert: CapAlert) -> str:
    infos = (alert.parsed or {}).get("infos") or [{}]
    return infos[0].get("headline") or infos[0].get("event") or alert.identifier


def _summary(alert: CapAlert) -> str:
    infos = (alert.parsed or {}).get("infos") or [{}]
    info = infos[0]
    parts = [
        f"{alert.msg_type}" + (" (exercise)" if alert.status == "Exercise" else ""),
        f"event {info.get('event', '')}",
        f"severity {info.get('severity', '')}",
        f"urgency {info.get('urgency', '')}",
    ]
    note = (alert.parsed or {}).get("note")
    return "; ".join(parts) + (f". {note}" if note else ".")


def atom_feed(
    alerts: Iterable[CapAlert], *, self_url: str, alert_url: Callable[[CapAlert], str], title: str
) -> bytes:
    """The Atom document (UTF-8 bytes) for ``alerts`` (given newest first)."""
    alerts = list(alerts)
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(title)
    feed.author({"name": settings.CAP_SENDER})
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.updated(alerts[0].sent_at if alerts else timezone.now())
    feed.generator("crisis-hotline")
    for alert in alerts:
        entry = feed.add_entry(order="append")
        href = alert_url(alert)
        entry.id(f"urn:cap:{alert.sender}:{alert.identifier}")
        # A drill's alert says so in its title too: feed readers show titles, not status.
        mark = f"{EXERCISE_MARK} " if alert.status == "Exercise" else ""
        entry.title(sanitize_for_xml(f"{mark}{alert.msg_type}: {_headline(alert)}"))
        entry.updated(alert.sent_at)
        entry.published(alert.sent_at)
        entry.link(href=href, rel="alternate", type="application/cap+xml")
        entry.summary(sanitize_for_xml(_summary(alert)))
        entry.category(term=alert.crisis.category, label=alert.crisis.get_category_display())
    return _typed_links(feed.atom_str(pretty=False))


ATOM = "{http://www.w3.org/2005/Atom}"


def _typed_links(document: bytes) -> bytes:
    """feedgen 1.0 drops an entry link's ``rel`` and ``type`` (its loop variable shadows
    the link it reads them from); put them back: a CAP reader looks for
    ``type="application/cap+xml"``."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(document, parser)
    for link in root.iter(f"{ATOM}link"):
        if link.getparent().tag == f"{ATOM}entry":
            link.set("rel", "alternate")
            link.set("type", "application/cap+xml")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
