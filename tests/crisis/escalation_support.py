"""Old name of the escalation test helpers: see ``tests.crisis.factories``.

Kept for the tests of other apps (hotline, deadlines) that import it. Here
``make_protocol`` is the escalation preset (a new protocol per call, no checklist).
"""

from tests.crisis.factories import (
    AFFECTED,
    REGION,
    expire,
    make_crisis,
    pending_deadline,
)
from tests.crisis.factories import make_escalation_protocol as make_protocol

__all__ = ["AFFECTED", "REGION", "expire", "make_crisis", "make_protocol", "pending_deadline"]
