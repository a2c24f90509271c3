"""The ``request_assistance`` protocol level action: invite the affected states to say
what they need.

``crisis`` cannot import ``humanitarian``, so this registers the handler with
``crisis.services.level_actions`` (on import; ``humanitarian.apps`` imports this module).
On entering a level with the action, inside that transaction (crisis row locked):

- every active national desk of each affected state gets a notification ("requests for
  assistance are invited") linking to the crisis's aid board, and the people on duty
  there are paged (urgency *urgent*: quiet hours may hold it back, it is not a
  life-or-death timer);
- the crisis's timeline records ``assistance_invited`` with the desks invited.

Once per crisis and desk: a level entered again, a repeat or a second level with the same
action invites nobody twice (a state added to the crisis later is invited the next time a
level with the action is entered). Acknowledging the page (link or API) marks the desk's
invitation read. Requests themselves are posted as always (``create_request``, by a desk
of an affected state): the invitation prompts, it does not gate.
"""

from __future__ import annotations

from crisis.models import Crisis, LevelAction
from crisis.services import timeline
from crisis.services.broadcasts import what_happened
from crisis.services.level_actions import register_level_action
from crisis.services.notifications import PageSpec, mark_read_for_subject, notify_desks
from crisis.snapshot import LevelSnapshot
from directory.models import Desk, DeskKind
from paging.models import Urgency

NOTIFICATION_KIND = "assistance.invited"
#: Pages of this kind mark the invitation read when acknowledged (``humanitarian.apps``).
PAGE_KIND = "humanitarian.assistance_invited"


def invitation_subject(crisis: Crisis) -> str:
    return f"crisis:{crisis.pk}:assistance:invited"


@register_level_action(LevelAction.REQUEST_ASSISTANCE)
def invite_assistance_requests(*, crisis: Crisis, level: LevelSnapshot) -> None:
    desks = list(
        Desk.objects.filter(
            kind=DeskKind.NATIONAL, is_active=True, state__in=crisis.affected_states.all()
        ).order_by("code")
    )
    invited = notify_desks(
        desks=desks,
        kind=NOTIFICATION_KIND,
        crisis=crisis,
        title=f"{crisis.reference} {crisis.title}: requests for assistance are invited — "
        "post what your state needs",
        payload={"level": level.order, "name": level.name},
        link_path=f"/aid/{crisis.pk}/",
        page=PageSpec(
            urgency=Urgency.URGENT,
            kind=PAGE_KIND,
            subject_key=invitation_subject(crisis),
            body=lambda desk: (
                what_happened(crisis, desk) + "\n\nMember states are ready to help: post your "
                "state's requests for assistance (shelter, food, water, health, search and "
                "rescue, transport …) on the crisis's aid board, with quantities, so that "
                "others can pledge."
            ),
            payload={"crisis_id": crisis.pk},
        ),
    )
    if invited:
        codes = sorted({n.desk.code for n in invited})
        timeline.record(
            crisis=crisis,
            kind="assistance_invited",
            payload={"level": level.order, "name": level.name, "desks": codes},
        )


def invitation_acknowledged(*, page, by) -> None:
    """An invitation page was acknowledged: the desk has seen it."""
    mark_read_for_subject(desk=page.desk, subject_key=page.subject_key)
