"""Recording a state change: one log entry (an ``event`` record, canonical JSON), the subtree
hashes it completes, its recipients and their webhook deliveries — in the caller's transaction,
so the change and its record commit or vanish together.

``record_change`` queues the change in the session and returns a ``LoggedChange`` handle. The
queued changes are appended together at the very end of the unit of work — a ``before_commit``
hook on every session flushes the ORM's pending rows first, then calls ``append_queued`` — so the
log head (one row that orders every change of the hub) is locked for the few statements of the
append and the commit, not for the whole request. A change rolled back (the transaction, or the
savepoint it was recorded in) is never appended. The handle's ``index`` is known once appended.

A caller that must write the index into its own record before commit (a certificate, a
retirement, an ingested batch, a reconciliation report) calls ``append_change`` instead: it
appends every change queued before it, then its own, and returns the index — the log keeps the
order in which the changes were recorded either way.

``append_queued(session)`` appends everything queued in one pass under one head lock: one
``UPDATE … RETURNING`` reserves the indexes, one read fetches the frontier, and one ``INSERT``
per table writes entries, nodes, recipients and deliveries — on PostgreSQL one statement for all
the rows (``hub.multirow``), on SQLite an ``executemany`` — (a bulk path can queue many changes
and call it, or simply commit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from hub.database import LOG_QUEUE
from hub.log.repository import LogRepository
from schemas.canonical import canonicalize
from transparency import Node, appended_nodes, frontier, leaf_hash

QUEUE = LOG_QUEUE


def event_id(index: int) -> str:
    return f"evt-{index}"


class NotYetAppended(RuntimeError):
    """The index of a change read before the end of its unit of work (use ``append_change``)."""


@dataclass(eq=False)
class LoggedChange:
    """A recorded change: appended to the log when its unit of work commits."""

    type: str
    subject: tuple[str, str]
    actor: str
    platforms: list[str]
    data: dict[str, Any]
    occurred_at: str
    transaction: SessionTransaction | None = field(repr=False, default=None)
    _index: int | None = field(default=None, repr=False)

    @property
    def appended(self) -> bool:
        return self._index is not None

    @property
    def index(self) -> int:
        """The log index (also the event cursor); known once the change is appended."""
        if self._index is None:
            raise NotYetAppended(f"{self.type} is queued; its index is known at the end of the unit of work")
        return self._index

    def entry(self, index: int) -> dict[str, Any]:
        return {
            "event_id": event_id(index),
            "log_index": index,
            "type": self.type,
            "occurred_at": self.occurred_at,
            "subject": {"kind": self.subject[0], "id": self.subject[1]},
            "platforms": self.platforms,
            "data": {"actor": self.actor, **self.data},
        }


def _queue(session: OrmSession) -> list[LoggedChange]:
    queue: list[LoggedChange] = session.info.setdefault(QUEUE, [])
    return queue


def record_change(
    session: Session,
    type: str,
    *,
    subject: tuple[str, str],
    actor: str,
    platforms: Iterable[str] = (),
    data: Mapping[str, Any] | None = None,
) -> LoggedChange:
    """Queue the change for the log; it is appended when the unit of work commits."""
    change = LoggedChange(
        type=type,
        subject=subject,
        actor=actor,
        platforms=sorted(set(platforms)),
        data=dict(data or {}),
        occurred_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        transaction=session.get_nested_transaction() or session.get_transaction(),
    )
    _queue(session).append(change)
    return change


def append_change(
    session: Session,
    type: str,
    *,
    subject: tuple[str, str],
    actor: str,
    platforms: Iterable[str] = (),
    data: Mapping[str, Any] | None = None,
) -> int:
    """Append the change now (after every change queued before it); its index. The head stays
    locked until the transaction ends: use it only where the index must be known before commit."""
    change = record_change(session, type, subject=subject, actor=actor, platforms=platforms, data=data)
    append_queued(session)
    return change.index


def append_queued(session: Session) -> list[LoggedChange]:
    """Append every queued change of ``session``, in the order recorded, under one head lock;
    the changes, now with their indexes."""
    queue = session.info.get(QUEUE)
    if not queue:
        return []
    changes = list(queue)
    queue.clear()
    repository = LogRepository(session)
    # What does not depend on the index is read before the head is locked (or with it, in one
    # statement on PostgreSQL: the lock is taken as the statement ends either way).
    platforms = {code for change in changes for code in change.platforms}
    now = datetime.now(UTC)
    start, hooks = repository.reserve_with_webhooks(len(changes), platforms)
    stored: dict[Node, bytes] = repository.nodes(frontier(start))
    entries: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    recipients: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    for offset, change in enumerate(changes):
        index = start + offset
        body = canonicalize(change.entry(index))
        entries.append(
            {
                "index": index,
                "entry": body,
                "type": change.type,
                "subject_kind": change.subject[0],
                "subject_id": change.subject[1],
                "created_at": now,
            }
        )
        for node, value in appended_nodes(index, leaf_hash(body), stored):
            stored[node] = value
            nodes.append({"level": node[0], "idx": node[1], "hash": value})
        for code in change.platforms:
            recipients.append({"platform_code": code, "index": index})
            if hooks.get(code):
                deliveries.append(
                    {
                        "index": index,
                        "platform_code": code,
                        "url": hooks[code],
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                    }
                )
        change._index = index
    repository.insert_appended(entries, nodes, recipients, deliveries)
    return changes


def queued(session: Session) -> list[LoggedChange]:
    """The changes queued in ``session`` and not yet appended."""
    return list(session.info.get(QUEUE) or [])


@event.listens_for(OrmSession, "before_commit")
def _append_at_commit(session: OrmSession) -> None:
    if not isinstance(session, Session) or session.in_nested_transaction() or not session.info.get(QUEUE):
        return  # a savepoint's release: the changes wait for the outer commit
    session.flush()  # the unit of work's own rows first: the head is locked last, briefly
    append_queued(session)


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget_rolled_back(session: OrmSession, previous: SessionTransaction) -> None:
    queue = session.info.get(QUEUE)
    if not queue:
        return
    if not previous.nested:
        queue.clear()
        return
    queue[:] = [change for change in queue if not _within(change.transaction, previous)]


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False
