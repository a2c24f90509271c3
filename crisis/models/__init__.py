from crisis.models.directory import Desk, DeskKind, DeskMembership, MemberState, Role

__all__ = ["Desk", "DeskKind", "DeskMembership", "MemberState", "Role"]
