"""A state machine as a transition table: which states may follow which, nothing else.

The recognition, transfer and block machines are each one table of this kind; the hub applies
every transition through them (and through one function that also writes history, log entry and
event), so an illegal step is refused the same way everywhere (6002).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

S = TypeVar("S", bound=StrEnum)


class IllegalTransition(ValueError):
    code = "6002"


@dataclass(frozen=True)
class Machine(Generic[S]):
    """``name``: what moves (in messages); ``table``: each state and the states that may follow it."""

    name: str
    table: Mapping[S, frozenset[S]]

    @property
    def final(self) -> frozenset[S]:
        return frozenset(state for state, targets in self.table.items() if not targets)

    def allows(self, current: S, target: S) -> bool:
        return target in self.table[current]

    def transition(self, current: S, target: S) -> S:
        """``target`` when the table allows it from ``current``; :class:`IllegalTransition` else."""
        if not self.allows(current, target):
            raise IllegalTransition(f"a {self.name} cannot go from {current} to {target}")
        return target
