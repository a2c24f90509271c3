"""The hotline's console pages: lines with unread counts, a live conversation."""
