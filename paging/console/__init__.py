"""Paging's console pages: a person's contact methods, a desk's webhooks (docs/console.md)."""
