"""Applying a state transition: the one function through which recognitions, transfers and blocks
change state. It checks the step against the machine's table (``mutual_recognition``), and writes
the history entry and the log entry (which is also the event) in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlmodel import Session

from hub.log.changes import LoggedChange, record_change
from hub.problems import Conflict
from mutual_recognition.machine import IllegalTransition, Machine

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class Applied(Generic[S]):
    state: S
    change: LoggedChange
    history: dict[str, Any]

    @property
    def log_index(self) -> int:
        """The log entry's index, known once the unit of work appends it (see hub.log.changes)."""
        return self.change.index


def apply_transition(
    session: Session,
    machine: Machine[S],
    current: S,
    target: S,
    *,
    event: str,
    subject: tuple[str, str],
    actor: str,
    platforms: Iterable[str],
    data: Mapping[str, Any] | None = None,
    reason: str | None = None,
    history: Mapping[str, Any] | None = None,
) -> Applied[S]:
    """``target`` after checking the step (409, 6002, when the table forbids it), with its log
    entry and the history entry the caller appends to the record's history."""
    try:
        state = machine.transition(current, target)
    except IllegalTransition as exc:
        raise Conflict(str(exc), code=exc.code) from exc
    change = record_change(session, event, subject=subject, actor=actor, platforms=platforms, data=data)
    entry: dict[str, Any] = {
        "state": str(state),
        **(history or {}),
        "at": datetime.now(UTC).isoformat(),
    }
    if reason:
        entry["reason"] = reason
    return Applied(state, change, entry)
