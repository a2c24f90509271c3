"""The desk a console action is taken for (the crisis and humanitarian pages share it)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.console.shell import current_desk
from core.errors import PermissionDenied
from directory.models import Desk


def acting_desk(request) -> Desk:
    """The session's current desk; a person on no desk (a superuser or an auditor added
    to none) is refused with a reason (403 ``no_desk``) instead of reaching a service
    with no desk."""
    desk = current_desk(request)
    if desk is None:
        raise PermissionDenied(
            _(
                "You are not on any desk, so you cannot act here. Ask an administrator to add "
                "you to a desk."
            ),
            code="no_desk",
        )
    return desk
