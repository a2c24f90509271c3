"""The deadline engine, as hotline uses it (flash acknowledgements, line checks).

PLACEHOLDER until the engine lands on main.
"""

from __future__ import annotations

_handlers: dict = {}


def register_handler(kind: str):
    def decorator(func):
        _handlers[kind] = func
        return func

    return decorator


def schedule_deadline(*, kind: str, subject_key: str, due_at, payload=None):
    return None


def cancel_deadlines(*, kind: str | None = None, subject_key: str) -> int:
    return 0
