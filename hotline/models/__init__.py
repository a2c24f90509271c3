from hotline.models.channels import (
    ChannelEvent,
    ChannelEventKind,
    ChannelKind,
    ChannelMember,
    ChannelStatus,
    HotlineChannel,
    InvitationStatus,
    LineStatus,
    RoomInvitation,
)
from hotline.models.line_checks import LineCheck, LineCheckStatus
from hotline.models.messages import (
    DEFAULT_MESSAGE_TLP,
    MAX_BODY_CHARS,
    Message,
    MessageKind,
    Priority,
    Receipt,
)
from hotline.models.presence import DeskPresence, PresenceSession

__all__ = [
    "DEFAULT_MESSAGE_TLP",
    "MAX_BODY_CHARS",
    "ChannelEvent",
    "ChannelEventKind",
    "ChannelKind",
    "ChannelMember",
    "ChannelStatus",
    "DeskPresence",
    "HotlineChannel",
    "InvitationStatus",
    "LineCheck",
    "LineCheckStatus",
    "LineStatus",
    "Message",
    "MessageKind",
    "PresenceSession",
    "Priority",
    "Receipt",
    "RoomInvitation",
]
