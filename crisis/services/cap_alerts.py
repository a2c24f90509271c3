"""CAP 1.2 and crises: how a crisis is rendered as the alerts we issue, and how a received
alert's fields map onto a crisis (see docs/crises.md, "CAP mapping").
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils import timezone

from core.disclosure import COMMUNITY
from crisis import cap
from crisis.models import (
    CapAlert,
    CapDirection,
    Crisis,
    CrisisCategory,
    CrisisStatus,
    SituationUpdate,
)

S = CrisisStatus


# --- CAP issued about a crisis ---

SEVERITY_TO_CAP = {1: "Minor", 2: "Moderate", 3: "Moderate", 4: "Severe", 5: "Extreme"}
CAP_TO_SEVERITY = {"Minor": 1, "Moderate": 3, "Severe": 4, "Extreme": 5, "Unknown": 3}
CATEGORY_TO_CAP = {
    CrisisCategory.MARITIME: "Transport",
    CrisisCategory.EARTHQUAKE: "Geo",
    CrisisCategory.FLOOD: "Met",
    CrisisCategory.STORM: "Met",
    CrisisCategory.VOLCANO: "Geo",
    CrisisCategory.PANDEMIC: "Health",
    CrisisCategory.CYBER: "Infra",
    CrisisCategory.BORDER: "Security",
    CrisisCategory.REFUGEE: "Safety",
    CrisisCategory.OTHER: "Other",
}
URGENCY_BY_STATUS = {
    S.REPORTED: "Immediate",
    S.ACTIVE: "Immediate",
    S.DE_ESCALATING: "Expected",
    S.RESOLVED: "Past",
    S.CLOSED: "Past",
}
ISO3_GEOCODE = "ISO3166-1-alpha-3"
CAP_RESTRICTION = "Member states' national desks and the regional coordination centre."


def cap_sender() -> str:
    return settings.CAP_SENDER


def _latest_community_update(crisis: Crisis) -> SituationUpdate | None:
    """The latest situation update a CAP alert may quote: our alerts go to every desk of
    the service (scope Restricted), so only TLP:CLEAR and TLP:GREEN text goes in."""
    latest = crisis.latest_update if crisis.latest_update_id else None
    if latest is not None and latest.tlp in COMMUNITY:
        return latest
    return (
        crisis.situation_updates.filter(tlp__in=COMMUNITY)
        .select_related("desk")
        .order_by("-posted_at", "-id")
        .first()
    )


def cap_message_for(
    crisis: Crisis, *, identifier: str, sent, msg_type: str, references: list
) -> cap.CapMessage:
    """The CAP 1.2 rendering of the crisis as it stands (see docs/crises.md for the mapping)."""
    states = sorted(crisis.affected_states.all(), key=lambda s: s.code)
    dismissed = crisis.status == S.CLOSED and crisis.activated_at is None
    area = cap.CapArea(
        area_desc=crisis.admin_area or ", ".join(s.name for s in states) or "Region",
        geocodes=[(ISO3_GEOCODE, s.code) for s in states],
    )
    if crisis.latitude is not None and crisis.longitude is not None:
        area.circles = [f"{crisis.latitude},{crisis.longitude} 0"]
    description = crisis.description
    update = _latest_community_update(crisis)
    if update is not None:
        description = f"{description}\n\nLatest situation ({update.desk.code}): {update.conditions}"
    info = cap.CapInfo(
        categories=[CATEGORY_TO_CAP[crisis.category]],
        event=crisis.get_category_display(),
        urgency=URGENCY_BY_STATUS[crisis.status],
        severity=SEVERITY_TO_CAP[crisis.severity],
        certainty="Unlikely"
        if dismissed
        else ("Likely" if crisis.status == S.REPORTED else "Observed"),
        sender_name=crisis.reported_by_desk.name,
        headline=f"{crisis.reference}: {crisis.title}"[:160],
        description=description.strip(),
        areas=[area],
    )
    return cap.CapMessage(
        identifier=identifier,
        sender=cap_sender(),
        sent=sent,
        # A drill's alerts say so in CAP's own words, so no receiving system acts on one.
        status="Exercise" if crisis.exercise else "Actual",
        msg_type=msg_type,
        scope="Restricted",
        restriction=CAP_RESTRICTION,
        note=f"Crisis status: {crisis.get_status_display()}; severity "
        f"{crisis.severity} ({crisis.get_severity_display()}).",
        references=references,
        incidents=crisis.reference,
        infos=[info],
    )


def issue_cap_alert(crisis: Crisis) -> CapAlert:
    """Issue the next CAP alert of ``crisis``: Alert first, then Update (Cancel if dismissed),
    each referencing every earlier one. Called holding the crisis row lock."""
    previous = list(crisis.cap_alerts.filter(direction=CapDirection.ISSUED).order_by("id"))
    sent = timezone.now().replace(microsecond=0)
    if not previous:
        msg_type = "Alert"
    elif crisis.status == S.CLOSED and crisis.activated_at is None:
        msg_type = "Cancel"
    else:
        msg_type = "Update"
    references = [(a.sender, a.identifier, cap.format_datetime(a.sent_at)) for a in previous]
    message = cap_message_for(
        crisis,
        identifier=f"{crisis.reference}.{len(previous) + 1}",
        sent=sent,
        msg_type=msg_type,
        references=references,
    )
    return CapAlert.objects.create(
        direction=CapDirection.ISSUED,
        crisis=crisis,
        identifier=message.identifier,
        sender=message.sender,
        sent_at=sent,
        status=message.status,
        msg_type=msg_type,
        references=" ".join(",".join(r) for r in references),
        parsed=message.as_json(),
        raw_xml=cap.render_alert(message),
    )


# --- reading a received alert ---

_KEYWORDS = (
    (r"tsunami|earthquake|seismic", CrisisCategory.EARTHQUAKE),
    (r"volcan|eruption|\bash\b", CrisisCategory.VOLCANO),
    (r"flood", CrisisCategory.FLOOD),
    (r"typhoon|cyclone|storm|hurricane|depression", CrisisCategory.STORM),
    (r"ship|vessel|ferry|maritime|collision at sea|oil spill|boat", CrisisCategory.MARITIME),
    (r"cyber|ransomware|ddos", CrisisCategory.CYBER),
    (r"refugee|displace|influx", CrisisCategory.REFUGEE),
    (r"epidemic|pandemic|outbreak|disease", CrisisCategory.PANDEMIC),
    (r"border|incursion", CrisisCategory.BORDER),
)
_BY_CAP_CATEGORY = {
    "Geo": CrisisCategory.EARTHQUAKE,
    "Met": CrisisCategory.STORM,
    "Health": CrisisCategory.PANDEMIC,
    "Security": CrisisCategory.BORDER,
    "Transport": CrisisCategory.MARITIME,
    "Rescue": CrisisCategory.MARITIME,
}


def category_from_cap(info: cap.CapInfo) -> str:
    text = f"{info.event} {info.headline}".lower()
    for pattern, category in _KEYWORDS:
        if re.search(pattern, text):
            return category
    for cap_category in info.categories:
        if cap_category in _BY_CAP_CATEGORY:
            return _BY_CAP_CATEGORY[cap_category]
    return CrisisCategory.OTHER


def state_codes_in(info: cap.CapInfo) -> list[str]:
    codes = []
    for area in info.areas:
        for name, value in area.geocodes:
            label = name.upper().replace(" ", "")
            if ("3166" in label or "ISO3" in label) and re.fullmatch(r"[A-Za-z]{3}", value):
                codes.append(value.upper())
    return codes
