"""Admin pages, one module per area; importing them registers them."""

from crisis.admin import crises, notifications, protocols  # noqa: F401
