"""Each recognition check passes and fails on purpose."""

from __future__ import annotations

import pytest

from mutual_recognition import checks
from mutual_recognition.serials import SerialRange

BLOCK = SerialRange(100, 199, "JS-B-1")


@pytest.mark.parametrize(
    ("outcome", "code", "passed"),
    [
        (checks.held_by_sender("B", "JS", "JS"), "3020", True),
        (checks.held_by_sender("B", "SH", "JS"), "3020", False),
        (checks.not_retired_or_cancelled("B", "held"), "3021", True),
        (checks.not_retired_or_cancelled("B", "retired"), "3021", False),
        (checks.not_retired_or_cancelled("B", "cancelled"), "3021", False),
        (checks.not_exported("B", "held"), "3022", True),
        (checks.not_exported("B", "exported"), "3022", False),
        (checks.not_encumbered("B", "held"), "3023", True),
        (checks.not_encumbered("B", "encumbered"), "3023", False),
        (checks.not_locked("B", "held"), "3024", True),
        (checks.not_locked("B", "locked"), "3024", False),
        (checks.registries_differ("JS", "SH"), "5011", True),
        (checks.registries_differ("SH", "SH"), "5011", False),
    ],
)
def test_each_check_passes_and_fails(outcome: checks.CheckOutcome, code: str, passed: bool) -> None:
    assert (outcome.code, outcome.passed) == (code, passed)
    assert outcome.detail


def test_block_checks_are_all_reported_in_order() -> None:
    outcomes = checks.block_checks("B", "encumbered", "JS", "JS")
    assert [o.code for o in outcomes] == ["3020", "3021", "3022", "3023", "3024"]
    assert [o.code for o in outcomes if not o.passed] == ["3023"]
