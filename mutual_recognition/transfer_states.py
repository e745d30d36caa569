"""The transfer state machine, with the UN ITL status number recorded beside each state.

proposed → checked → accepted → origin_locked → destination_credited → completed; or rejected
(checks failed), cancelled (before anything moved), terminated (gave up; compensated by unlocking
at the origin). Completed, rejected, cancelled and terminated are final.
"""

from __future__ import annotations

from enum import StrEnum

from mutual_recognition.machine import IllegalTransition, Machine


class State(StrEnum):
    PROPOSED = "proposed"
    CHECKED = "checked"
    ACCEPTED = "accepted"
    ORIGIN_LOCKED = "origin_locked"
    DESTINATION_CREDITED = "destination_credited"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"


# ITL: 1 Proposed, 2 Checked (no discrepancy), 4 Completed, 5 Terminated, 6 Rejected, 7 Cancelled,
# 8 Accepted (FACTS.md); the saga's intermediate steps are all "accepted" to the ITL.
ITL_STATUS = {
    State.PROPOSED: 1,
    State.CHECKED: 2,
    State.ACCEPTED: 8,
    State.ORIGIN_LOCKED: 8,
    State.DESTINATION_CREDITED: 8,
    State.COMPLETED: 4,
    State.TERMINATED: 5,
    State.REJECTED: 6,
    State.CANCELLED: 7,
}

TRANSITIONS: dict[State, frozenset[State]] = {
    State.PROPOSED: frozenset({State.CHECKED, State.REJECTED}),
    State.CHECKED: frozenset({State.ACCEPTED, State.REJECTED, State.CANCELLED}),
    State.ACCEPTED: frozenset({State.ORIGIN_LOCKED, State.CANCELLED, State.TERMINATED}),
    State.ORIGIN_LOCKED: frozenset({State.DESTINATION_CREDITED, State.TERMINATED}),
    State.DESTINATION_CREDITED: frozenset({State.COMPLETED}),
    State.COMPLETED: frozenset(),
    State.REJECTED: frozenset(),
    State.CANCELLED: frozenset(),
    State.TERMINATED: frozenset(),
}
TRANSFER = Machine[State]("transfer", TRANSITIONS)
FINAL = TRANSFER.final
# What the worker does next from each state.
NEXT_STEP = {
    State.ACCEPTED: State.ORIGIN_LOCKED,
    State.ORIGIN_LOCKED: State.DESTINATION_CREDITED,
    State.DESTINATION_CREDITED: State.COMPLETED,
}

transition = TRANSFER.transition
__all__ = [
    "FINAL",
    "ITL_STATUS",
    "NEXT_STEP",
    "TRANSFER",
    "TRANSITIONS",
    "IllegalTransition",
    "State",
    "transition",
]
