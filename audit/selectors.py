"""Reads of the audit, scoped to the caller."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from audit.models import ReadRecord
from core.errors import PermissionDenied


def may_read_audit(access) -> bool:
    """Auditors and coordinators (and superusers) may read the audit; nobody else."""
    return bool(
        access.is_authenticated
        and (
            access.is_auditor
            or access.is_coordinator
            or getattr(access.user, "is_superuser", False)
        )
    )


def reads_visible_to(
    access,
    *,
    user_id: int | None = None,
    object_type: str | None = None,
    since: datetime | None = None,
) -> QuerySet[ReadRecord]:
    """Read records, newest first. Raises PermissionDenied (403) for everyone but
    auditors and coordinators: the audit's existence is no secret, its content is."""
    if not may_read_audit(access):
        raise PermissionDenied(
            _("Only auditors and coordinators may read the audit."), code="audit_not_allowed"
        )
    records = ReadRecord.objects.select_related("desk")
    if user_id is not None:
        records = records.filter(user_id=user_id)
    if object_type:
        records = records.filter(object_type=object_type)
    if since is not None:
        records = records.filter(at__gte=since)
    return records.order_by("-at", "-id")
