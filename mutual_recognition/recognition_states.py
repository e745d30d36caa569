"""The recognition state machine, with the four-eyes rule.

pending_review → approved | pending_second_approval | rejected; pending_second_approval →
approved | rejected; approved → used (a transfer or retirement named its certificate) | withdrawn
(the origin gave it up before use). Rejected, used and withdrawn are final. Above the four-eyes
quantity an approval needs two distinct people.
"""

from __future__ import annotations

from enum import StrEnum

from mutual_recognition.machine import Machine


class RecognitionState(StrEnum):
    PENDING_REVIEW = "pending_review"
    PENDING_SECOND_APPROVAL = "pending_second_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    USED = "used"
    WITHDRAWN = "withdrawn"


R = RecognitionState
RECOGNITION = Machine[RecognitionState](
    "recognition",
    {
        R.PENDING_REVIEW: frozenset({R.APPROVED, R.PENDING_SECOND_APPROVAL, R.REJECTED}),
        R.PENDING_SECOND_APPROVAL: frozenset({R.APPROVED, R.REJECTED}),
        R.APPROVED: frozenset({R.USED, R.WITHDRAWN}),
        R.REJECTED: frozenset(),
        R.USED: frozenset(),
        R.WITHDRAWN: frozenset(),
    },
)
OPEN = frozenset({R.PENDING_REVIEW, R.PENDING_SECOND_APPROVAL})


def after_approval(approvers: int, quantity: int, four_eyes_tonnes: int) -> RecognitionState:
    """Where an approval leads: approved, unless the quantity is above the four-eyes threshold
    and fewer than two distinct people approved."""
    if quantity > four_eyes_tonnes and approvers < 2:
        return R.PENDING_SECOND_APPROVAL
    return R.APPROVED
