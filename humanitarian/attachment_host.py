"""Attachments on requests for assistance (forms, photos, needs assessments)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from attachments.registry import Host, Item, register_host
from core.errors import NotFound
from core.tlp import TLP
from crisis.models import CrisisParticipant
from humanitarian.selectors import requests_visible_to


def request_item(access, object_id: int) -> Item:
    """The request if the caller sees it (else 404). A request has no marking of its
    own; its files' recipients are the requesting desk and the crisis's parties."""
    request = requests_visible_to(access).filter(pk=object_id).first()
    if request is None:
        raise NotFound(_("No such request."), code="request_not_found")
    parties = CrisisParticipant.objects.filter(crisis_id=request.crisis_id)
    recipients = set(parties.values_list("desk_id", "desk__state_id"))
    recipients.add((request.requesting_desk_id, request.requesting_desk.state_id))
    return Item(
        tlp=None,
        recipients=tuple(sorted(recipients, key=lambda r: r[0])),
        author_desk_id=request.requesting_desk_id,
        label=f"request {request.pk}",
    )


#: Requests are read by every state that may offer: their files are GREEN unless marked.
register_host(Host("humanitarian.request", request_item, default_tlp=TLP.GREEN))
