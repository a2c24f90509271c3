"""Fixtures for the CAP feed tests: an agency's real HTTP server, its alerts, a trigger."""

from __future__ import annotations

import pytest

from crisis.models import Protocol
from feeds.models import CapFeed, CapTrigger
from tests.crisis.factories import make_protocol
from tests.support.cap_agency import AgencyServer

SENDER = "earthquake.tmd.go.th"
SENT = "2026-11-24T08:30:00+07:00"


def cap_alert(
    identifier: str,
    *,
    msg_type: str = "Alert",
    references: str = "",
    severity: str = "Severe",
    event: str = "Earthquake",
    status: str = "Actual",
    sent: str = SENT,
    geocode: str = "BBB",
) -> str:
    """A CAP 1.2 alert shaped like a national meteorological agency's."""
    refs = f"\n  <references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>{SENDER}</sender>
  <sent>{sent}</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>{refs}
  <info>
    <language>en-US</language>
    <category>Geo</category>
    <event>{event}</event>
    <responseType>Monitor</responseType>
    <urgency>Immediate</urgency>
    <severity>{severity}</severity>
    <certainty>Observed</certainty>
    <senderName>Thai Meteorological Department</senderName>
    <headline>M6.8 {event.lower()} in the Andaman Sea</headline>
    <description>A magnitude 6.8 event struck at 08:21 local time, depth 10 km.</description>
    <area>
      <areaDesc>Andaman Sea, off Phang Nga</areaDesc>
      <circle>8.1,97.9 100</circle>
      <geocode><valueName>ISO3166-1-alpha-3</valueName><value>{geocode}</value></geocode>
    </area>
  </info>
</alert>
"""


@pytest.fixture
def agency():
    server = AgencyServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def quake_trigger(db) -> CapTrigger:
    """Earthquakes and tsunamis of severity Severe or worse open an earthquake crisis."""
    make_protocol("earthquake")
    return CapTrigger.objects.create(
        protocol=Protocol.objects.get(category="earthquake"),
        event_words="earthquake, tsunami",
        min_severity="Severe",
    )


def make_feed(region, url: str, **fields) -> CapFeed:
    return CapFeed.objects.create(url=url, agency="TMD", state=region.state_a, **fields)
