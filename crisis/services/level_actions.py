"""Actions a protocol level takes on entering it (open a crisis room, …).

``crisis`` may not import the apps that carry out an action (``hotline`` opens crisis
rooms), so they register a handler here at start-up (their ``AppConfig.ready``). The
escalation engine runs the handlers of a level's ``actions`` inside the transaction that
enters the level, holding the crisis row lock: an action commits with the level, or not
at all, and each handler must be idempotent (a level can be entered again on a repeat or
a re-escalation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from crisis.models import Crisis
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


def run_level_actions(*, crisis: Crisis, level: LevelSnapshot) -> list[str]:
    """Run the level's actions that have a handler; return the names of those run.

    An action nobody handles (e.g. ``notify_all_states``, which the level's notify scopes
    already do) is skipped, not an error.
    """
    done = []
    for name in level.actions:
        handler = HANDLERS.get(name)
        if handler is None:
            continue
        handler(crisis=crisis, level=level)
        done.append(name)
    return done
