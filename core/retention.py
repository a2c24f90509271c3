"""Retention: named policies that purge what is kept no longer (docs/operations.md).

An app registers its policy once, from its ``AppConfig.ready()``::

    register_retention(
        "hotline.presence_sessions",
        "RETENTION_PRESENCE_DAYS",
        delete_rows("hotline.PresenceSession", "last_seen_at"),
    )

The setting names how many days are kept (0 or unset: kept forever). One beat task,
``core.tasks.run_retention``, runs every policy daily. Each purge is bounded
(``RETENTION_BATCH_LIMIT`` rows per policy and run; the next run goes on) and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

#: ``purge(older_than=, limit=) -> rows purged``
Purge = Callable[..., int]


@dataclass(frozen=True)
class RetentionPolicy:
    name: str
    keep_days_setting: str
    purge: Purge


@dataclass(frozen=True)
class RetentionRun:
    name: str
    keep_days: int
    purged: int
    more_left: bool


_policies: dict[str, RetentionPolicy] = {}


def register_retention(name: str, keep_days_setting: str, purge_callable: Purge) -> None:
    """Register (or re-register, e.g. on a second ``ready()``) a named policy."""
    _policies[name] = RetentionPolicy(name, keep_days_setting, purge_callable)


def policies() -> list[RetentionPolicy]:
    return [_policies[name] for name in sorted(_policies)]


def _keep_days(policy: RetentionPolicy) -> int:
    value = getattr(settings, policy.keep_days_setting, 0) or 0
    if not isinstance(value, int) or value < 0:
        raise ValueError(f"{policy.keep_days_setting} must be a whole number of days (0: keep)")
    return value


def run_retention(*, now: datetime | None = None) -> list[RetentionRun]:
    """Run every registered policy once.

    Guarantees: each policy runs in its own transaction and purges at most
    ``RETENTION_BATCH_LIMIT`` rows older than its keep period; a policy whose setting is 0
    is skipped; one failing policy is logged and does not stop the others. Safe to run
    twice: a second run purges only what is still older than the period.
    """
    now = now or timezone.now()
    limit = int(getattr(settings, "RETENTION_BATCH_LIMIT", 5000))
    runs = []
    for policy in policies():
        try:
            days = _keep_days(policy)
            if days == 0:
                logger.info(
                    "retention %s: kept forever (%s=0)", policy.name, policy.keep_days_setting
                )
                continue
            with transaction.atomic():
                purged = policy.purge(older_than=now - timedelta(days=days), limit=limit)
        except Exception:
            logger.exception("retention %s failed; the other policies go on", policy.name)
            continue
        run = RetentionRun(policy.name, days, purged, more_left=purged >= limit)
        logger.info(
            "retention %s: purged %s row(s) older than %s days%s",
            policy.name,
            purged,
            days,
            " (batch limit reached, the next run goes on)" if run.more_left else "",
        )
        runs.append(run)
    return runs


# --- Purges for the common cases --------------------------------------------------------


def _oldest_ids(model_label: str, date_field: str, older_than, limit: int, filters, exclude):
    model = apps.get_model(model_label)
    rows = model.objects.filter(**{f"{date_field}__lt": older_than, **(filters or {})})
    if exclude:
        rows = rows.exclude(**exclude)
    return model, list(rows.order_by(date_field, "pk").values_list("pk", flat=True)[:limit])


def delete_rows(model_label: str, date_field: str, *, filters: dict | None = None) -> Purge:
    """A purge deleting rows of ``model_label`` whose ``date_field`` is older."""

    def purge(*, older_than, limit: int) -> int:
        model, ids = _oldest_ids(model_label, date_field, older_than, limit, filters, None)
        model.objects.filter(pk__in=ids).delete()
        return len(ids)

    return purge


def clear_fields(
    model_label: str, date_field: str, values: dict, *, filters: dict | None = None
) -> Purge:
    """A purge overwriting ``values`` (e.g. ``{"content": ""}``) on older rows, keeping
    the row itself (its counts and status stay as the record)."""

    def purge(*, older_than, limit: int) -> int:
        model, ids = _oldest_ids(model_label, date_field, older_than, limit, filters, values)
        return model.objects.filter(pk__in=ids).update(**values)

    return purge
