"""Rules that say whether an action may happen now, decided without the database.

A service asks a rule and raises its refusal; a console page asks the same rule to offer
only the forms that can succeed. So the page and the service cannot disagree, and each
refusal is the domain error (code, status, message) the service answers with.

Every rule is pure: it reads the caller's ``Access`` (memberships, loaded once) and the
fields of records already in hand, and never queries. The service calls it on rows it
holds locked, so the answer it acts on is the answer of that moment.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from core.errors import DomainError, InvalidInput, PermissionDenied, TransitionNotAllowed
from directory.access import Access
from directory.models import Desk, DeskKind
from humanitarian.models import AssistanceRequest, Pledge, RequestStatus

#: A request takes new pledges while something of it may still be offered.
PLEDGEABLE_STATUSES = frozenset({RequestStatus.OPEN, RequestStatus.PARTIALLY_PLEDGED})


@dataclass(frozen=True)
class Answer:
    """Yes (truthy), or no with the error that says why."""

    refusal: DomainError | None = None

    def __bool__(self) -> bool:
        return self.refusal is None

    def or_raise(self) -> None:
        if self.refusal is not None:
            raise self.refusal


YES = Answer()


def status_refusal(
    obj: AssistanceRequest | Pledge, allowed: Collection[str], action: str
) -> TransitionNotAllowed | None:
    """The refusal for doing ``action`` to ``obj`` in its status, or None if allowed."""
    if obj.status in allowed:
        return None
    label = "request" if isinstance(obj, AssistanceRequest) else "pledge"
    return TransitionNotAllowed(
        f"Cannot {action} a {label} that is {obj.status}; it must be "
        f"{' or '.join(sorted(allowed))}.",
        details={"status": obj.status, "allowed_from": sorted(allowed)},
    )


def may_pledge(access: Access, desk: Desk | None, request: AssistanceRequest) -> Answer:
    """May the caller pledge against ``request`` now, for ``desk``?

    No, checked in this order (the first reason wins):

    - ``no_desk`` (403): there is no desk to pledge for;
    - ``not_found`` (404) / ``permission_denied`` (403): the caller is not on the desk,
      or is on it in a read-only role (:meth:`Access.require_act_for`);
    - ``own_request`` (400): a state's national desk does not pledge to its own state's
      request (the regional centre may pledge to anyone's);
    - ``transition_not_allowed`` (409): the request is not open or partially pledged.

    Assumes the caller may see ``request`` (the selectors decide that).
    """
    if desk is None:
        return Answer(PermissionDenied("You act for no desk: choose one.", code="no_desk"))
    try:
        access.require_act_for(desk)
    except DomainError as refusal:
        return Answer(refusal)
    if desk.kind == DeskKind.NATIONAL and desk.state_id == request.state_id:
        return Answer(
            InvalidInput(
                "A state does not pledge against its own request.",
                code="own_request",
                details={"desk": desk.code},
            )
        )
    refusal = status_refusal(request, PLEDGEABLE_STATUSES, "pledge to")
    return Answer(refusal) if refusal else YES
