"""Admin pages, one module per area; importing them registers them."""

from crisis.admin import crises, deadlines, directory, protocols  # noqa: F401
