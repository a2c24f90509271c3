"""Reads scoped to the caller: a desk sees the channels it is a member of; the regional
centre's coordinators and auditors see every channel. Hidden looks like missing (404)."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.disclosure import is_narrow, may_see, visible_q
from core.errors import NotFound
from directory.access import Access
from hotline.models import (
    ChannelEvent,
    ChannelMember,
    DeskPresence,
    HotlineChannel,
    InvitationStatus,
    LineCheck,
    Message,
    PresenceSession,
    Receipt,
    RoomInvitation,
)

#: A connection not seen for this long no longer counts as online (crashed process).
PRESENCE_TTL_SECONDS = 90


def current_members() -> QuerySet[ChannelMember]:
    return ChannelMember.objects.filter(removed_at__isnull=True)


def channels_visible_to(access: Access) -> QuerySet[HotlineChannel]:
    if not access.is_authenticated:
        return HotlineChannel.objects.none()
    channels = HotlineChannel.objects.prefetch_related(
        Prefetch("members", queryset=current_members().select_related("desk", "desk__state"))
    )
    if access.sees_all_states:
        return channels
    return channels.filter(
        Exists(current_members().filter(channel=OuterRef("pk"), desk_id__in=access.desk_ids))
    )


def channel_for(access: Access, channel_id: int) -> HotlineChannel:
    """The channel if the caller may see it, else ``NotFound`` (hidden == missing)."""
    try:
        return channels_visible_to(access).get(pk=channel_id)
    except (HotlineChannel.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such line."), code="channel_not_found") from None


def invitations_for(access: Access) -> QuerySet[RoomInvitation]:
    """Pending crisis room invitations of the caller's desks, oldest first."""
    return (
        RoomInvitation.objects.filter(status=InvitationStatus.PENDING, desk_id__in=access.desk_ids)
        .select_related("channel", "desk", "invited_by_desk", "invited_by")
        .order_by("id")
    )


def member_desk_ids(channel: HotlineChannel | int) -> set[int]:
    channel_id = channel if isinstance(channel, int) else channel.pk
    return set(current_members().filter(channel_id=channel_id).values_list("desk_id", flat=True))


def messages_in(
    channel: HotlineChannel | int, *, after_seq: int = 0, access: Access | None = None
) -> QuerySet[Message]:
    """Messages of a channel the caller was already allowed to see, in seq order.

    With ``access``, only those its TLP marking lets the caller see (``core.disclosure``):
    a RED message only for its recipient desks, AMBER+STRICT for their organisations.
    Without it, every message (callers that render per connection, or no person at all).
    """
    channel_id = channel if isinstance(channel, int) else channel.pk
    rows = Message.objects.filter(channel_id=channel_id, seq__gt=after_seq)
    if access is not None:
        rows = rows.filter(message_marking_q(access))
    rows = rows.annotate(exercise=F("channel__exercise"))  # drill traffic, from its line
    return rows.select_related("sender", "sender_desk").order_by("seq")


def message_marking_q(access: Access):
    """Filter on ``Message``: the messages whose marking lets ``access`` see them."""
    return visible_q(access, Message.recipient_desks.through, owner_field="message")


def message_visible_to(access: Access, message: Message) -> bool:
    """Whether a caller who sees the message's line may see this message (its TLP)."""
    recipients = (
        [(d.pk, d.state_id) for d in message.recipient_desks.all()]
        if is_narrow(message.tlp)
        else ()
    )
    return may_see(access, tlp=message.tlp, recipients=recipients)


def message_for(access: Access, message_id: int) -> Message:
    message = Message.objects.select_related("channel", "sender", "sender_desk").filter(
        pk=message_id
    )
    found = message.first() if isinstance(message_id, int) else None
    if found is None:
        raise NotFound(_("No such message."), code="message_not_found")
    try:
        channel_for(access, found.channel_id)
    except NotFound:
        raise NotFound(_("No such message."), code="message_not_found") from None
    if not message_visible_to(access, found):
        raise NotFound(_("No such message."), code="message_not_found")
    return found


def receipts_of(channel: HotlineChannel, *, after_seq: int = 0) -> QuerySet[Receipt]:
    return (
        Receipt.objects.filter(message__channel=channel, message__seq__gt=after_seq)
        .select_related("message", "desk", "delivered_by", "read_by", "acknowledged_by")
        .order_by("message__seq", "desk__code")
    )


def events_of(channel: HotlineChannel) -> QuerySet[ChannelEvent]:
    return ChannelEvent.objects.filter(channel=channel).select_related("actor", "desk")


def line_checks_of(channel: HotlineChannel) -> QuerySet[LineCheck]:
    return LineCheck.objects.filter(channel=channel).select_related("message")


def presence_of(desk_ids) -> list[dict]:
    """Online now, and last seen, for each desk id."""
    cutoff = timezone.now() - timezone.timedelta(seconds=PRESENCE_TTL_SECONDS)
    online = set(
        PresenceSession.objects.filter(desk_id__in=desk_ids, last_seen_at__gte=cutoff)
        .values_list("desk_id", flat=True)
        .distinct()
    )
    seen = dict(
        DeskPresence.objects.filter(desk_id__in=desk_ids).values_list("desk_id", "last_seen_at")
    )
    return [
        {
            "desk": desk_id,
            "online": desk_id in online,
            "last_seen_at": seen[desk_id].isoformat() if desk_id in seen else None,
        }
        for desk_id in sorted(desk_ids)
    ]
