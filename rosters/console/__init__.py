"""The duty roster's console pages (see docs/console.md)."""
