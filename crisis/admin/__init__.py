"""Admin pages, one module per area; importing them registers them."""

from crisis.admin import (
    deadlines,  # noqa: F401
    directory,  # noqa: F401
)
