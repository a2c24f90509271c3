"""Demo data: the earthquake protocol's CAP trigger, and a Thai agency's feed, switched
off (the demo runs without the Internet; a coordinator switches it on in the admin)."""

from __future__ import annotations

from django.db import transaction

from crisis.models import Protocol
from directory.models import MemberState
from feeds.models import CapFeed, CapTrigger

DEMO_FEED_URL = "https://tmd.example/cap/feed.atom"


def seed() -> list[tuple[str, str]]:
    """Idempotent: the trigger and the feed are created once and left as people set them."""
    with transaction.atomic():
        protocol = Protocol.objects.filter(category="earthquake").order_by("id").first()
        if protocol is not None and not protocol.cap_triggers.exists():
            CapTrigger.objects.create(
                protocol=protocol, event_words="earthquake, tsunami", min_severity="Severe"
            )
        thailand = MemberState.objects.filter(code="THA").first()
        if thailand is not None:
            CapFeed.objects.get_or_create(
                url=DEMO_FEED_URL,
                defaults={
                    "agency": "Thai Meteorological Department",
                    "state": thailand,
                    "is_active": False,
                },
            )
    return []
