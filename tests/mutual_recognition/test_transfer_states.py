"""The transfer state machine as a table: every pair of states, allowed or not."""

from __future__ import annotations

import itertools

import pytest

from mutual_recognition.transfer_states import (
    FINAL,
    ITL_STATUS,
    NEXT_STEP,
    TRANSITIONS,
    IllegalTransition,
    State,
    transition,
)

ALLOWED = {
    ("proposed", "checked"),
    ("proposed", "rejected"),
    ("checked", "accepted"),
    ("checked", "rejected"),
    ("checked", "cancelled"),
    ("accepted", "origin_locked"),
    ("accepted", "cancelled"),
    ("accepted", "terminated"),
    ("origin_locked", "destination_credited"),
    ("origin_locked", "terminated"),
    ("destination_credited", "completed"),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(State, State)))
def test_every_transition(current: State, target: State) -> None:
    if (current.value, target.value) in ALLOWED:
        assert transition(current, target) is target
    else:
        with pytest.raises(IllegalTransition):
            transition(current, target)


def test_final_states_and_itl_numbers() -> None:
    assert {State.COMPLETED, State.REJECTED, State.CANCELLED, State.TERMINATED} == FINAL
    assert {ITL_STATUS[s] for s in FINAL} == {4, 5, 6, 7}
    assert all(target in TRANSITIONS[state] for state, target in NEXT_STEP.items())
