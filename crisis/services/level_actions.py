"""Actions a protocol level takes on entering it (open a crisis room, …).

``crisis`` may not import the apps that carry out an action (``hotline`` opens crisis
rooms, ``humanitarian`` invites requests for assistance), so they register a handler here
at start-up (their ``AppConfig.ready``); ``crisis`` handles its own two (notify every
member state, alert the regional centre: ``crisis.services.broadcasts``). Only actions
with a handler are offered to protocol authors, and validation refuses any other
(``crisis.services.protocol_rules``), so no protocol promises what nothing does. The
escalation engine runs the handlers of a level's ``actions`` inside the transaction that
enters the level, holding the crisis row lock: an action commits with the level, or not
at all, and each handler must be idempotent (a level can be entered again on a repeat or
a re-escalation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from crisis.models import Crisis, LevelAction
from crisis.snapshot import LevelSnapshot

logger = logging.getLogger(__name__)

LevelActionHandler = Callable[..., None]

#: action name (crisis.models.LevelAction) -> handler(*, crisis, level: LevelSnapshot)
HANDLERS: dict[str, LevelActionHandler] = {}


def register_level_action(name: str) -> Callable[[LevelActionHandler], LevelActionHandler]:
    def decorator(handler: LevelActionHandler) -> LevelActionHandler:
        HANDLERS[name] = handler
        return handler

    return decorator


def available_actions() -> list[tuple[str, str]]:
    """``(value, label)`` of the actions some installed app carries out."""
    return [(value, label) for value, label in LevelAction.choices if value in HANDLERS]


def has_handler(name: str) -> bool:
    return name in HANDLERS


def run_level_actions(*, crisis: Crisis, level: LevelSnapshot) -> list[str]:
    """Run the level's actions; return the names of those run.

    Validation refuses an action without a handler, so one is missing here only if the
    app that handled it was removed after the protocol was published: it is logged and
    left out of ``actions_done`` (the timeline shows what was done), not raised, so the
    level is still entered and its desks told.
    """
    done = []
    for name in level.actions:
        handler = HANDLERS.get(name)
        if handler is None:
            logger.error("level action %r of crisis %s has no handler", name, crisis.pk)
            continue
        handler(crisis=crisis, level=level)
        done.append(name)
    return done
