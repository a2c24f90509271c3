"""Reads of the directory, scoped to the caller. Views start here, never from ``Model.objects``."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import AuthToken

from core.errors import InvalidInput
from directory.access import Access
from directory.models import AgencyType, Desk, MemberState


def states_visible_to(access: Access) -> QuerySet[MemberState]:
    """The member-state directory is shared across the region with every signed-in person."""
    if not access.is_authenticated:
        return MemberState.objects.none()
    return MemberState.objects.all()


def desks_visible_to(
    access: Access, *, state_code: str | None = None, agency_type: str | None = None
) -> QuerySet[Desk]:
    """Every active desk is in the shared directory (who to call is not a secret)."""
    if not access.is_authenticated:
        return Desk.objects.none()
    desks = Desk.objects.filter(is_active=True).select_related("state")
    if state_code:
        code = state_code.strip().upper()
        if not MemberState.objects.filter(code=code).exists():
            raise InvalidInput(
                _(
                    "Unknown state code %(state_code)s: use an ISO 3166-1 alpha-3 code of a "
                    "member state, e.g. THA."
                )
                % {"state_code": repr(state_code)},
                code="unknown_state",
                details={"state": state_code},
            )
        desks = desks.filter(state__code=code)
    if agency_type:
        if agency_type not in AgencyType.values:
            raise InvalidInput(
                _("Unknown agency type %(agency_type)s: use one of %(agencytype_values)s.")
                % {
                    "agency_type": repr(agency_type),
                    "agencytype_values": ", ".join(AgencyType.values),
                },
                code="unknown_agency_type",
                details={"agency_type": agency_type},
            )
        desks = desks.filter(agency_type=agency_type)
    return desks


def token_is_live(digest: str) -> bool:
    """The API token with this digest exists and has not expired."""
    return AuthToken.objects.filter(digest=digest).exclude(expiry__lte=timezone.now()).exists()
