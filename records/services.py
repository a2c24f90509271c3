"""Exporting a crisis's record: who may, and the read it leaves in the audit."""

from __future__ import annotations

from django.utils.translation import gettext as _

from audit.services import record_read
from core.access import access_for
from core.errors import NotFound, PermissionDenied
from crisis.models import Crisis
from crisis.selectors import crises_visible_to, is_party_to
from records.archive import build_archive


def may_export(access, crisis: Crisis) -> bool:
    """The crisis's parties (desks taking part, states affected), coordinators, auditors."""
    return access.sees_all_states or is_party_to(access, crisis)


def export_record(*, by, crisis_id: int, desk=None) -> tuple[bytes, str]:
    """The record of a crisis as zip bytes and a file name.

    Who may: see :func:`may_export`; a crisis the caller may not know exists is 404, one
    they see but are not party to is 403 (``not_a_party``). Every export is recorded in
    the read audit (``records.export``) before the archive is returned, with the
    archive's manifest digest, so an auditor can match a file to its export. Read-only
    otherwise: nothing about the crisis changes.
    """
    access = access_for(by)
    crisis = crises_visible_to(access).filter(pk=crisis_id).first()
    if crisis is None:
        raise NotFound(_("No such crisis."), details={"crisis": crisis_id})
    if not may_export(access, crisis):
        raise PermissionDenied(
            _("Only the crisis's parties, coordinators and auditors may export its record."),
            code="not_a_party",
        )
    desk = desk or access.default_desk()
    data, record = build_archive(crisis=crisis, access=access, user=by, desk=desk)
    record_read(
        user=by,
        what="records.export",
        object_type="crisis",
        object_id=crisis.pk,
        desk=desk,
        details={
            "files": len(record.files),
            "timeline_head": record.chains.get("timeline", {}).get("seq"),
            "withheld": record.withheld,
            "exercise": crisis.exercise,
        },
    )
    stamp = record.generated_at.strftime("%Y%m%dT%H%M%SZ")
    prefix = "EXERCISE-" if crisis.exercise else ""
    return data, f"{prefix}record-{crisis.reference}-{stamp}.zip"
