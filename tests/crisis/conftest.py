"""Fixtures several crisis test files share (factories are in ``tests.crisis.factories``)."""

import pytest

from tests.crisis.factories import make_author, make_protocol


@pytest.fixture
def protocol(db):
    """The published maritime protocol crises of the lifecycle tests bind to."""
    return make_protocol()


@pytest.fixture
def author(region):
    """A protocol author at the regional centre."""
    return make_author(region.centre)
