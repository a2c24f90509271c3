"""Demo data: one live crisis, a maritime incident between Thailand and Malaysia.

Made through the lifecycle services, as a desk would, so its timeline, tasks and CAP
alerts are real. Idempotent: if the crisis exists it is left as it is. Activated only
when a published maritime protocol exists (the protocol demo seeds one).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from crisis.models import Crisis
from crisis.services import crises as services
from crisis.services.protocols import published_version_for
from directory.models import Desk

TITLE = "Tanker MT Andaman Star and fishing vessel collide, Strait of Malacca"


@transaction.atomic
def seed() -> list[tuple[str, str]]:
    desk = Desk.objects.filter(code="THA-DDPM").first()
    malaysia = Desk.objects.filter(code="MYS-NADMA").first()
    if desk is None or malaysia is None or Crisis.objects.filter(title=TITLE).exists():
        return []
    User = get_user_model()
    operator = User.objects.get(username="tha-operator")
    supervisor = User.objects.get(username="tha-supervisor")
    crisis = services.report_crisis(
        by=operator,
        desk=desk,
        category="maritime",
        title=TITLE,
        severity=3,
        affected_state_codes=["THA", "MYS"],
        description=(
            "At 04:10 local time the tanker MT Andaman Star (28,000 dwt, Malaysian flag) and "
            "the Thai fishing vessel Sor Petchsamut 7 collided 14 nautical miles west of "
            "Ko Lipe. 11 fishermen rescued, 3 missing; oil leaking from the tanker's port tank."
        ),
        latitude="6.48000",
        longitude="99.05000",
        admin_area="TH-91 Satun, near the THA-MYS maritime boundary",
    )
    services.post_situation_update(
        by=operator,
        desk=desk,
        crisis=crisis,
        conditions="Oil slick about 2 km long drifting south-east; wind SW 15 kt; 3 missing.",
        actions="Two Royal Thai Navy patrol vessels searching; booms at Ko Lipe.",
        needs="Aerial surveillance of the slick; 20 t of oil dispersant.",
    )
    if published_version_for("maritime") is not None:
        services.transition_crisis(by=supervisor, desk=desk, crisis=crisis, to_status="active")
        services.acknowledge_crisis(
            by=User.objects.get(username="mys-operator"), desk=malaysia, crisis=crisis
        )
    return []
