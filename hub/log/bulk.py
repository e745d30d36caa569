"""Recording many state changes at once: each queued like :func:`hub.log.changes.record_change`
and appended together by :func:`hub.log.changes.append_queued` — one lock of the log head, one
fetch of the stored nodes, one statement per table, last in the caller's transaction. There is one
way entries and Merkle nodes are written: this module only names the changes as values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from hub.log.changes import LoggedChange, append_queued, record_change


@dataclass(frozen=True)
class Change:
    """One state change to record: what ``record_change`` takes, as a value."""

    type: str
    subject: tuple[str, str]
    actor: str
    platforms: tuple[str, ...] = ()
    data: Mapping[str, Any] | None = field(default=None)


def queue_changes(session: Session, changes: Sequence[Change]) -> list[LoggedChange]:
    """Queue ``changes`` in order: appended, with the session's other changes, when it commits."""
    return [
        record_change(
            session, change.type, subject=change.subject, actor=change.actor,
            platforms=change.platforms, data=change.data,
        )
        for change in changes
    ]  # fmt: skip


def record_changes(session: Session, changes: Sequence[Change]) -> list[int]:
    """Append ``changes`` to the log now, in order, after whatever the session queued before; their
    indexes (also the event cursors). Without a need for the indexes before commit, queuing them
    (``record_change``) is enough: the commit appends them the same way."""
    handles = queue_changes(session, changes)
    if handles:
        session.flush()  # the caller's rows first: the head lock is the last one taken
        append_queued(session)
    return [handle.index for handle in handles]
