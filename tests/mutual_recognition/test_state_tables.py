"""The recognition and block state machines as tables: every pair of states, allowed or not."""

from __future__ import annotations

import itertools

import pytest

from mutual_recognition.block_states import BLOCK, BlockStatus
from mutual_recognition.machine import IllegalTransition
from mutual_recognition.recognition_states import RECOGNITION, RecognitionState, after_approval

RECOGNITION_ALLOWED = {
    ("pending_review", "approved"),
    ("pending_review", "pending_second_approval"),
    ("pending_review", "rejected"),
    ("pending_second_approval", "approved"),
    ("pending_second_approval", "rejected"),
    ("approved", "used"),
    ("approved", "withdrawn"),
}
BLOCK_ALLOWED = {
    *{
        (usable, target)
        for usable in ("held", "imported")
        for target in ("encumbered", "locked", "retired", "cancelled")
    },
    ("encumbered", "held"),
    ("locked", "exported"),
    ("locked", "held"),
    ("exported", "imported"),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(RecognitionState, RecognitionState)))
def test_every_recognition_transition(current: RecognitionState, target: RecognitionState) -> None:
    if (current.value, target.value) in RECOGNITION_ALLOWED:
        assert RECOGNITION.transition(current, target) is target
    else:
        with pytest.raises(IllegalTransition):
            RECOGNITION.transition(current, target)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(BlockStatus, BlockStatus)))
def test_every_block_transition(current: BlockStatus, target: BlockStatus) -> None:
    assert BLOCK.allows(current, target) == ((current.value, target.value) in BLOCK_ALLOWED)


def test_final_states() -> None:
    assert RECOGNITION.final == {RecognitionState.REJECTED, RecognitionState.USED, RecognitionState.WITHDRAWN}
    assert BLOCK.final == {BlockStatus.RETIRED, BlockStatus.CANCELLED}


@pytest.mark.parametrize(
    ("approvers", "quantity", "expected"),
    [
        (1, 1000, RecognitionState.APPROVED),
        (1, 1001, RecognitionState.PENDING_SECOND_APPROVAL),
        (2, 1001, RecognitionState.APPROVED),
    ],
)
def test_four_eyes(approvers: int, quantity: int, expected: RecognitionState) -> None:
    assert after_approval(approvers, quantity, four_eyes_tonnes=1000) is expected
