from crisis.models.crises import (
    Crisis,
    CrisisParticipant,
    CrisisStatus,
    EscalationAck,
    EscalationState,
    Severity,
)
from crisis.models.deadlines import Deadline, DeadlineProbe, DeadlineState, SweepHeartbeat
from crisis.models.directory import Desk, DeskKind, DeskMembership, MemberState, Role
from crisis.models.protocols import (
    ChecklistItem,
    CrisisCategory,
    EscalationLevel,
    LevelAction,
    NotifyScope,
    ParticipantRole,
    Protocol,
    ProtocolVersion,
    VersionStatus,
)
from crisis.models.timeline import TimelineEntry, TimelineStream

__all__ = [
    "ChecklistItem",
    "Crisis",
    "CrisisCategory",
    "CrisisParticipant",
    "CrisisStatus",
    "Deadline",
    "DeadlineProbe",
    "DeadlineState",
    "Desk",
    "DeskKind",
    "DeskMembership",
    "EscalationAck",
    "EscalationLevel",
    "EscalationState",
    "LevelAction",
    "MemberState",
    "NotifyScope",
    "ParticipantRole",
    "Protocol",
    "ProtocolVersion",
    "Role",
    "Severity",
    "SweepHeartbeat",
    "TimelineEntry",
    "TimelineStream",
    "VersionStatus",
]
