"""Recording a read."""

from __future__ import annotations

from django.utils.translation import gettext as _

from audit.models import ReadRecord
from core.access import access_for
from core.errors import InvalidInput

_MAX_LEN = 64


def record_read(
    *,
    user,
    what: str,
    object_type: str,
    object_id: int | str,
    desk=None,
    details: dict | None = None,
) -> ReadRecord:
    """Record that ``user`` read ``object_type`` ``object_id`` (``what`` names the read).

    Guarantees: one ``ReadRecord`` row is written (a single INSERT, atomic by itself; part
    of the caller's transaction if one is open) before this returns, so a read whose
    record failed is answered with an error rather than served unrecorded. The reader's
    username and desk roles are copied into the row. ``desk`` is a ``directory.Desk`` or its id.
    """
    for name, value in (("what", what), ("object_type", object_type), ("object_id", object_id)):
        if value is None or not str(value) or len(str(value)) > _MAX_LEN:
            raise InvalidInput(
                _("record_read: %(name)s must be 1 to %(max_len)s characters.")
                % {"name": name, "max_len": _MAX_LEN},
                details={"field": name},
            )
    authenticated = bool(getattr(user, "is_authenticated", False))
    roles = sorted(access_for(user).roles) if authenticated else []
    return ReadRecord.objects.create(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        roles=",".join(roles),
        desk_id=getattr(desk, "pk", desk),
        what=what,
        object_type=object_type,
        object_id=str(object_id),
        details=details or {},
    )
