"""Admin pages, one module per area; importing them registers them."""

from crisis.admin import directory  # noqa: F401
