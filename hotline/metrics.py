"""The hotline's figures in ``/metrics`` (core/metrics.py defines them; this counts)."""

from __future__ import annotations

import json
import time
from datetime import datetime

from core.metrics import HOTLINE_FANOUT_LAG


def observe_fanout_lag(text: str) -> None:
    """A message frame reached this process's hub: how long since it was created.

    Once per message and process (not per connection); a frame without a readable
    ``created_at`` is not counted."""
    try:
        created_at = datetime.fromisoformat(json.loads(text)["created_at"])
    except (ValueError, KeyError, TypeError):
        return
    HOTLINE_FANOUT_LAG.observe(max(0.0, time.time() - created_at.timestamp()))
