"""``manage.py escalation_status``: the old name of ``deadlines_status`` (kept for scripts
and health checks written against it)."""

from deadlines.management.commands.deadlines_status import Command  # noqa: F401
