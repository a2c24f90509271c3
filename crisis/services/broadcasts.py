"""The two level actions ``crisis`` carries out itself (registered on import; ``crisis.apps``
imports this module):

- ``notify_all_states``: every active national desk of every member state is told what
  happened (a notification and a page, urgency *escalation*) and joins the crisis as an
  observer, so it can open and acknowledge it.
- ``alert_regional_centre``: the same for the regional coordination centre's desks.

Both run inside the transaction entering the level, holding the crisis row lock. Their
pages share the level's page subject (``crisis:<id>:level:<n>:round:<r>``): a desk that
the level's own scopes already paged is not paged twice, an ack link acknowledges the
level like any other, and entering the next level or an acknowledgement ends them with
the level's own pages. Idempotent: a desk already told about this level and round is
skipped; a repeat of the level (a new round) tells them again, as a repeat is meant to.
"""

from __future__ import annotations

from datetime import UTC

from crisis.models import Crisis, CrisisParticipant, LevelAction, ParticipantRole
from crisis.services.escalation import PAGE_KIND, level_page_subject
from crisis.services.level_actions import register_level_action
from crisis.services.notifications import PageSpec, notify_desks
from crisis.snapshot import LevelSnapshot
from directory.models import Desk, DeskKind
from paging.models import Urgency

ALL_STATES_KIND = "crisis.all_states_informed"
REGIONAL_KIND = "crisis.regional_alert"


def what_happened(crisis: Crisis, desk: Desk) -> str:
    """The crisis in a few plain lines, its times in ``desk``'s zone with UTC beside."""
    reported = crisis.reported_at
    states = ", ".join(crisis.affected_states.order_by("name").values_list("name", flat=True))
    lines = [
        f"Crisis {crisis.reference}: {crisis.title}",
        f"{crisis.get_category_display()}, severity {crisis.severity} of 5, "
        f"{crisis.get_status_display().lower()}.",
        f"Affected: {states or 'not yet stated'}.",
        f"Reported by {crisis.reported_by_desk.name} at "
        f"{reported.astimezone(desk.zone):%Y-%m-%d %H:%M} {desk.time_zone} "
        f"({reported.astimezone(UTC):%Y-%m-%d %H:%M} UTC).",
    ]
    if crisis.description:
        lines.append("")
        lines.append(crisis.description[:600])
    return "\n".join(lines)


def _inform(crisis: Crisis, level: LevelSnapshot, desks: list[Desk], *, kind: str, why: str):
    round_ = crisis.level_repeats
    CrisisParticipant.objects.bulk_create(
        [CrisisParticipant(crisis=crisis, desk=d, role=ParticipantRole.OBSERVER) for d in desks],
        ignore_conflicts=True,
    )
    return notify_desks(
        desks=desks,
        kind=kind,
        crisis=crisis,
        title=f"{crisis.reference} {crisis.title}: {why} (escalation level {level.order})",
        payload={"level": level.order, "name": level.name, "round": round_},
        link_path=f"/crises/{crisis.pk}/",
        page=PageSpec(
            urgency=Urgency.ESCALATION,
            kind=PAGE_KIND,
            subject_key=level_page_subject(crisis, level.order, round_),
            body=lambda desk: (
                what_happened(crisis, desk) + f"\n\n{why.capitalize()} by escalation level "
                f"{level.order} ({level.name}). Open the crisis, or acknowledge it to stop "
                "the escalation."
            ),
            payload={"crisis_id": crisis.pk, "level": level.order, "round": round_},
        ),
    )


@register_level_action(LevelAction.NOTIFY_ALL_STATES)
def notify_all_states(*, crisis: Crisis, level: LevelSnapshot) -> None:
    desks = list(Desk.objects.filter(kind=DeskKind.NATIONAL, is_active=True).order_by("code"))
    _inform(crisis, level, desks, kind=ALL_STATES_KIND, why="every member state is informed")


@register_level_action(LevelAction.ALERT_REGIONAL_CENTRE)
def alert_regional_centre(*, crisis: Crisis, level: LevelSnapshot) -> None:
    desks = list(Desk.objects.filter(kind=DeskKind.REGIONAL, is_active=True).order_by("code"))
    _inform(crisis, level, desks, kind=REGIONAL_KIND, why="the regional centre is alerted")
