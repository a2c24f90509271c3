"""The attachment tests use the hotline's line and the crisis tests' protocol."""

from tests.crisis.conftest import protocol
from tests.hotline.conftest import line_ab

__all__ = ["line_ab", "protocol"]
