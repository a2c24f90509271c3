"""Reads of attachments scoped to the caller: through the item they hang on (its host
says whether the caller sees it), then the attachment's own TLP marking."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from attachments.models import Attachment
from attachments.registry import HOSTS, Item
from core.disclosure import is_narrow, may_see, visible_q
from core.errors import NotFound


def host_item(access, kind: str, object_id: int) -> Item:
    host = HOSTS.get(kind)
    if host is None:
        raise NotFound(
            _("Nothing of kind %(kind)s takes attachments.") % {"kind": repr(kind)},
            code="unknown_kind",
        )
    return host.item_for(access, object_id)


def marking_q(access):
    return visible_q(access, Attachment.recipient_desks.through, owner_field="attachment")


def attachments_on(access, kind: str, object_ids) -> QuerySet[Attachment]:
    """Attachments of items the caller already may see, that their marking shows them."""
    return (
        Attachment.objects.filter(kind=kind, object_id__in=list(object_ids))
        .filter(marking_q(access))
        .select_related("desk", "uploaded_by")
        .order_by("object_id", "id")
    )


def attachments_by_item(access, kind: str, object_ids) -> dict[int, list[Attachment]]:
    found: dict[int, list[Attachment]] = {}
    for attachment in attachments_on(access, kind, object_ids):
        found.setdefault(attachment.object_id, []).append(attachment)
    return found


def attachment_for(access, attachment_id) -> Attachment:
    """One attachment if the caller sees its item and its marking lets them; else 404."""
    missing = NotFound("No such attachment.", code="attachment_not_found")
    if not isinstance(attachment_id, int) or not 0 < attachment_id < 2**63:
        raise missing
    attachment = (
        Attachment.objects.select_related("desk", "uploaded_by").filter(pk=attachment_id).first()
    )
    if attachment is None:
        raise missing
    try:
        host_item(access, attachment.kind, attachment.object_id)
    except NotFound:
        raise missing from None
    recipients = (
        [(d.pk, d.state_id) for d in attachment.recipient_desks.all()]
        if is_narrow(attachment.tlp)
        else ()
    )
    if not may_see(access, tlp=attachment.tlp, recipients=recipients):
        raise missing
    return attachment
