"""Settings for test workers that must show the broker's redelivery quickly.

Kombu scans for unacknowledged messages older than the visibility timeout only every
``unacked_restore_interval * unacked_restore_throttle`` seconds (100 s by default); the
visibility-timeout regression test makes that one second.
"""

from config.settings import *  # noqa: F403
from config.settings import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
