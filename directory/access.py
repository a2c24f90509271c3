"""Who is asking, and what may they see and do.

Every read (selectors) and every write (services) asks an :class:`Access`, built once per
request or connection with :func:`access_for`. Rules in one place:

- A person acts *for a desk* they are a member of, in a writing role (operator,
  supervisor, coordinator). Auditors never write.
- A national desk's people see their own state's things; the regional centre's
  coordinators and every auditor see across states.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from core.errors import NotFound, PermissionDenied
from directory.models import WRITING_ROLES, Desk, DeskMembership, Role


@dataclass(frozen=True)
class Access:
    user: object
    memberships: tuple[DeskMembership, ...] = field(default_factory=tuple)

    # --- facts --------------------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return bool(getattr(self.user, "is_authenticated", False))

    @property
    def desk_ids(self) -> frozenset[int]:
        return frozenset(m.desk_id for m in self.memberships)

    @property
    def state_ids(self) -> frozenset[int]:
        return frozenset(m.desk.state_id for m in self.memberships if m.desk.state_id)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(m.role for m in self.memberships)

    @property
    def is_coordinator(self) -> bool:
        return Role.COORDINATOR in self.roles

    @property
    def is_auditor(self) -> bool:
        return Role.AUDITOR in self.roles

    @property
    def sees_all_states(self) -> bool:
        """Coordinators and auditors see across states (and staff superusers)."""
        return (
            self.is_coordinator
            or self.is_auditor
            or bool(getattr(self.user, "is_superuser", False))
        )

    @property
    def can_write(self) -> bool:
        return any(m.role in WRITING_ROLES for m in self.memberships)

    def role_on(self, desk: Desk | int) -> str | None:
        desk_id = desk if isinstance(desk, int) else desk.pk
        for m in self.memberships:
            if m.desk_id == desk_id:
                return m.role
        return None

    def is_member_of(self, desk: Desk | int) -> bool:
        return self.role_on(desk) is not None

    def can_act_for(self, desk: Desk | int, *, roles: frozenset[str] = WRITING_ROLES) -> bool:
        return self.role_on(desk) in roles

    def can_see_state(self, state_id: int | None) -> bool:
        return self.sees_all_states or (state_id is not None and state_id in self.state_ids)

    def desks(self) -> list[Desk]:
        return [m.desk for m in self.memberships]

    def writing_desks(self) -> list[Desk]:
        return [m.desk for m in self.memberships if m.role in WRITING_ROLES]

    # --- checks that raise domain errors ------------------------------------------------
    def require_act_for(self, desk: Desk | int, *, roles: frozenset[str] = WRITING_ROLES) -> None:
        """Raise unless the caller may act for ``desk`` in one of ``roles``.

        Someone who is not on the desk at all gets 404 (they may not know it exists in
        this context); a member whose role is not enough gets 403.
        """
        role = self.role_on(desk)
        if role is None:
            raise NotFound(_("You are not a member of that desk."))
        if role not in roles:
            wanted = ", ".join(sorted(roles))
            raise PermissionDenied(
                _("Your role on this desk is %(role)s; this needs one of: %(wanted)s.")
                % {"role": role, "wanted": wanted},
                details={"role": role, "required": sorted(roles)},
            )

    def acting_desk(self, code: str | None = None) -> Desk:
        """The desk the caller acts for: the one named by ``code`` (they must be on it,
        else 404), else their first writing desk. Read-only people have none: 403."""
        if code:
            for desk in self.desks():
                if desk.code.lower() == code.strip().lower():
                    return desk
            raise NotFound(
                _("You are not a member of desk %(code)s.") % {"code": repr(code)},
                details={"desk": code},
            )
        desk = self.default_desk()
        if desk is None:
            raise PermissionDenied(
                _("You act for no desk in a writing role (auditors are read-only)."),
                code="read_only",
            )
        return desk

    def default_desk(self) -> Desk | None:
        """The desk a person acts for when they do not say (their first writing desk)."""
        writing = self.writing_desks()
        return writing[0] if writing else None


def access_for(user) -> Access:
    """Build (and cache on the user object) the caller's access facts: one query."""
    if not getattr(user, "is_authenticated", False):
        return Access(user=user)
    cached = getattr(user, "_crisis_access", None)
    if cached is not None:
        return cached
    memberships = tuple(
        DeskMembership.objects.filter(user=user, desk__is_active=True)
        .select_related("desk", "desk__state")
        .order_by("desk__code")
    )
    access = Access(user=user, memberships=memberships)
    user._crisis_access = access
    return access
