"""Old name of the protocol authoring helpers: see ``tests.crisis.factories``."""

from tests.crisis.factories import CHECKLIST, ladder, make_author, make_draft, make_published

__all__ = ["CHECKLIST", "ladder", "make_author", "make_draft", "make_published"]
