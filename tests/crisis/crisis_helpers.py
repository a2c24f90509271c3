"""Old name of the crisis lifecycle test helpers: see ``tests.crisis.factories``.

Kept for the tests of other apps (hotline, humanitarian, console, browser) that import it.
"""

from tests.crisis.factories import activate, kinds, make_protocol, report

__all__ = ["activate", "kinds", "make_protocol", "report"]
