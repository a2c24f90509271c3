"""Attachments on situation updates: what ``attachments`` needs to know about one."""

from __future__ import annotations

from django.utils.translation import gettext as _

from attachments.registry import Host, Item, register_host
from core.disclosure import is_narrow
from core.errors import NotFound
from crisis.models import DEFAULT_UPDATE_TLP, CrisisParticipant, SituationUpdate
from crisis.selectors import crises_visible_to, update_visible_to


def update_item(access, object_id: int) -> Item:
    """The update if the caller sees its crisis and its marking lets them (else 404)."""
    update = (
        SituationUpdate.objects.filter(pk=object_id, crisis__in=crises_visible_to(access))
        .select_related("crisis")
        .first()
    )
    if update is None or not update_visible_to(access, update):
        raise NotFound(_("No such situation update."), code="update_not_found")
    if is_narrow(update.tlp):
        recipients = [(d.pk, d.state_id) for d in update.recipient_desks.all()]
    else:
        parties = CrisisParticipant.objects.filter(crisis_id=update.crisis_id)
        recipients = list(parties.values_list("desk_id", "desk__state_id"))
    return Item(
        tlp=update.tlp,
        recipients=tuple(recipients),
        author_desk_id=update.desk_id,
        label=f"situation update {update.pk} of {update.crisis.reference}",
    )


register_host(Host("crisis.situation_update", update_item, default_tlp=DEFAULT_UPDATE_TLP))
