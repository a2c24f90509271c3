from crisis.models.deadlines import Deadline, DeadlineProbe, DeadlineState, SweepHeartbeat
from crisis.models.directory import Desk, DeskKind, DeskMembership, MemberState, Role

__all__ = [
    "Deadline",
    "DeadlineProbe",
    "DeadlineState",
    "Desk",
    "DeskKind",
    "DeskMembership",
    "MemberState",
    "Role",
    "SweepHeartbeat",
]
