"""``core.disclosure``: reading markings from input, and forwards never widening."""

import pytest

from core.disclosure import check_marking, forward_marking, organisation
from core.errors import PermissionDenied


@pytest.mark.parametrize(
    ("given", "marking"),
    [("amber+strict", "AMBER+STRICT"), ("TLP:RED", "RED"), (" clear ", "CLEAR")],
)
def test_markings_are_read_as_written_on_documents(given, marking):
    assert check_marking(given) == marking


@pytest.mark.parametrize("junk", ["WHITE", "", None, "TLP:", "AMBER STRICT", 3])
def test_unknown_markings_are_refused_with_the_choices(junk):
    with pytest.raises(ValueError, match="TLP:AMBER\\+STRICT"):
        check_marking(junk)


def test_a_forward_takes_the_narrower_marking_and_red_stays():
    assert forward_marking("AMBER", "CLEAR") == "AMBER"
    assert forward_marking("GREEN", "AMBER+STRICT") == "AMBER+STRICT"
    assert forward_marking("CLEAR") == "CLEAR"
    with pytest.raises(PermissionDenied) as refused:
        forward_marking("RED", "RED")
    assert refused.value.code == "tlp_red"


def test_a_state_is_one_organisation_and_so_is_the_regional_centre():
    assert organisation(1, 7) == organisation(2, 7) != organisation(3, 8)
    assert organisation(4, None) == organisation(5, None) != organisation(1, 7)
