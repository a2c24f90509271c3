"""Scenario files: bad ones are refused with errors naming the line and the field."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from exercises import scenario as files
from exercises.selectors import shipped_scenarios
from tests.exercises.conftest import SCENARIO


def problems(text: str) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        files.parse_scenario(text)
    assert caught.value.code == "invalid_scenario"
    errors = caught.value.details["errors"]
    assert caught.value.message.startswith(str(files.Problem(**errors[0])))
    return [str(files.Problem(**e)) for e in errors]


def test_the_test_scenario_reads():
    spec = files.parse_scenario(SCENARIO)
    assert spec.name == "Strait ferry drill"
    assert [i.at_seconds for i in spec.injects] == [0, 300, 720, 900, 1200, 1800]
    assert spec.injects[1].desk == "BBB-DESK" and spec.injects[0].desk == "AAA-DESK"
    assert spec.injects[2].what == "B requests 200 tents"
    assert spec.injects[3].what == "AAA-DESK posts a situation update"  # a default label
    assert spec.injects[2].fields["needed_within_seconds"] == 48 * 3600
    assert spec.injects[1].line == 16


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("  - at: T+5 min\n", "  - at: T+5 mins\n",
         'line 16, injects[1].at: "T+5 mins" is not a time offset like T+5 min'),
        ("  - at: T+12 min\n", "  - at: 12\n",
         'line 23, injects[2].at: "12" is not a time offset like T+5 min'),
        ("    quantity: 200\n", "    quantity: lots\n",
         "line 29, injects[2].quantity: 'lots' is not a whole number from 1 to 2000000000"),
        ("    item: family_tent\n", "    item: rice\n",
         "line 28, injects[2].item: 'rice' belongs to sector 'food'"),
        ("  severity: 4\n", "  severity: 9\n",
         "line 6, crisis.severity: 9 is not a whole number from 1 to 5"),
        ("  category: maritime\n", "  category: tsunami\n",
         "line 4, crisis.category: 'tsunami' is not one of: maritime, earthquake, flood"),
        ("    type: transition\n", "    type: teleport\n",
         "line 39, injects[5].type: 'teleport' is not an inject type; one of: cap_alert"),
        ("    body: Our coast guard is on scene.\n", "    bodyy: Our coast guard is on scene.\n",
         "line 37, injects[4].bodyy: unknown field; expected one of: at, body, desk"),
        ("    body: Our coast guard is on scene.\n", "",
         "line 34, injects[4].body: missing (required)"),
        ("  affected_states: [AAA, BBB]\n", "  affected_states: [AAA, Thailand]\n",
         "line 7, crisis.affected_states[1]: 'Thailand' is not an ISO 3166-1 alpha-3 code"),
        ("  lead_desk: AAA-DESK\n", "",
         "line 4, crisis.lead_desk: missing (required)"),
        ("    to: active\n", "    to: [active]\n",
         "line 40, injects[5].to: expected a single value, not a list or mapping"),
        ("    sector: shelter\n", "    sector: shelter\n    sector: wash\n",
         "line 28, injects[2].sector: given twice"),
        ("    name: Harbour school\n", "    name: Harbour school\n  oops: [\n",
         "not valid YAML"),
    ],
)  # fmt: skip
def test_a_bad_field_is_named_with_its_line(old, new, expected):
    assert old in SCENARIO
    found = problems(SCENARIO.replace(old, new, 1))
    assert any(expected in p for p in found), found


def test_every_problem_is_listed_in_line_order():
    text = SCENARIO.replace("  severity: 4\n", "  severity: 0\n").replace(
        "  - at: T+5 min\n", "  - at: soon\n"
    )
    found = problems(text)
    assert [p.split(",")[0] for p in found] == ["line 6", "line 16"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "line 1, the file is empty"),
        ("- just\n- a list\n", "line 1, the file: expected a mapping of fields"),
        ("name: x\n", "line 1, crisis: missing (required)"),
        ("name: x\ninjects: []\ncrisis: {}\n", "line 2, injects: a scenario needs at least"),
        ("a: &x [1]\nb: *x\n", "line 1, a: unknown field"),
        ("name: x\x00\n", "the NUL character is not allowed"),
        ("name: x\x0f\n", "not valid YAML: unacceptable character #x000f"),
    ],
)
def test_files_that_are_not_scenarios(text, expected):
    assert problems(text)[0].startswith(expected)


def test_aliases_are_refused():
    text = SCENARIO.replace("  - at: T+0\n", "  - &first\n    at: T+0\n", 1) + "  - *first\n"
    assert any("injects[6]: anchors and aliases" in p for p in problems(text))


def test_a_file_too_large_is_refused_without_reading_it():
    assert "larger than 64 KiB" in problems("#" * (files.MAX_SOURCE_BYTES + 1))[0]


def test_time_offsets():
    assert files.parse_offset("T+0") == 0
    assert files.parse_offset("T+1 h 30 min") == 5400
    assert files.parse_offset("T+45 s") == 45
    assert files.parse_offset("T + 2 d") == 172800
    for bad in ("T+", "5 min", "T+5 mins", "T-5 min", "T+5min30", None, 5):
        assert files.parse_offset(bad) is None, bad
    assert files.format_offset(5400) == "T+1 h 30 min"
    assert files.format_offset(0) == "T+0"


@pytest.mark.django_db
def test_names_of_desks_and_states_are_checked_against_the_directory(region):
    text = SCENARIO.replace("    desk: BBB-DESK\n    name:", "    desk: ZZZ-DESK\n    name:")
    text = text.replace("[AAA, BBB]", "[AAA, XYZ]")
    with pytest.raises(InvalidInput) as caught:
        files.check_references(files.parse_scenario(text))
    found = [str(files.Problem(**e)) for e in caught.value.details["errors"]]
    assert "crisis.affected_states[1]: no member state XYZ" in found
    assert "line 19, injects[1].desk: no active desk ZZZ-DESK" in found


def test_the_shipped_scenarios_read():
    shipped = shipped_scenarios()
    assert set(shipped) == {"andaman-tsunami", "south-china-sea-maritime"}
    tsunami = files.parse_scenario(shipped["andaman-tsunami"])
    assert set(tsunami.crisis.affected_states) == {"THA", "IDN", "MYS", "MMR"}
    maritime = files.parse_scenario(shipped["south-china-sea-maritime"])
    assert set(maritime.crisis.affected_states) == {"PHL", "VNM"}
    for spec in (tsunami, maritime):
        assert {i.type for i in spec.injects} == set(files.INJECT_TYPES)
