"""Attachments on hotline messages: what ``attachments`` needs to know about a message."""

from __future__ import annotations

from attachments.registry import Host, Item, register_host
from core.disclosure import is_narrow
from hotline.models import DEFAULT_MESSAGE_TLP
from hotline.selectors import current_members, message_for


def message_item(access, object_id: int) -> Item:
    """The message if the caller sees its line and its marking lets them (else 404)."""
    message = message_for(access, object_id)
    if is_narrow(message.tlp):
        recipients = [(d.pk, d.state_id) for d in message.recipient_desks.all()]
    else:
        recipients = current_members().filter(channel_id=message.channel_id)
        recipients = list(recipients.values_list("desk_id", "desk__state_id"))
    return Item(
        tlp=message.tlp,
        recipients=tuple(recipients),
        author_desk_id=message.sender_desk_id,
        label=f"message #{message.seq} on line {message.channel_id}",
    )


register_host(Host("hotline.message", message_item, default_tlp=DEFAULT_MESSAGE_TLP))
