"""Recording many state changes at once: the entries of :func:`hub.log.changes.record_change`,
appended under one lock of the log head with one fetch of the stored nodes, and written with one
statement per table — in the caller's transaction, last in it (the head is the last lock a writer
takes, so it is held only while the rows are written).

Each entry is byte-identical to the one ``record_change`` would have written at the same index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from hub.log.changes import event_id
from hub.log.models import EventRecipient, LogEntry, LogNode, WebhookDelivery
from hub.log.repository import LogRepository
from hub.models import utcnow
from hub.platforms.models import Platform
from schemas.canonical import canonicalize
from transparency import appended_nodes, frontier, leaf_hash


@dataclass(frozen=True)
class Change:
    """One state change to record: what ``record_change`` takes, as a value."""

    type: str
    subject: tuple[str, str]
    actor: str
    platforms: tuple[str, ...] = ()
    data: Mapping[str, Any] | None = field(default=None)


def record_changes(session: Session, changes: Sequence[Change]) -> list[int]:
    """Append ``changes`` to the log in order; their indexes (also the event cursors)."""
    if not changes:
        return []
    repository = LogRepository(session)
    session.flush()  # the caller's rows first: the head lock is the last one taken
    head = repository.lock_head()
    first = head.size
    stored = dict(repository.nodes(frontier(first)))
    occurred = datetime.now(UTC).isoformat(timespec="milliseconds")
    now = utcnow()
    recipients_of = [sorted(set(change.platforms)) for change in changes]
    wanted = sorted({code for codes in recipients_of for code in codes})
    hooks: dict[str, str] = {}
    if wanted:
        found = session.exec(
            select(Platform.code, Platform.webhook_url).where(col(Platform.code).in_(wanted))
        )
        hooks = {code: url for code, url in found if url}
    entries: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    recipients: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    indexes: list[int] = []
    for offset, (change, codes) in enumerate(zip(changes, recipients_of, strict=True)):
        index = first + offset
        entry = {
            "event_id": event_id(index),
            "log_index": index,
            "type": change.type,
            "occurred_at": occurred,
            "subject": {"kind": change.subject[0], "id": change.subject[1]},
            "platforms": codes,
            "data": {"actor": change.actor, **(change.data or {})},
        }
        body = canonicalize(entry)
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
        for (level, idx), value in appended_nodes(index, leaf_hash(body), stored):
            stored[(level, idx)] = value  # the next append's frontier
            nodes.append({"level": level, "idx": idx, "hash": value})
        recipients += [{"platform_code": code, "index": index} for code in codes]
        deliveries += [
            {
                "index": index,
                "platform_code": code,
                "url": hooks[code],
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
            }
            for code in codes
            if code in hooks
        ]
        indexes.append(index)
    session.execute(insert(LogEntry), entries)
    session.execute(insert(LogNode), nodes)
    if recipients:
        session.execute(insert(EventRecipient), recipients)
    if deliveries:
        session.execute(insert(WebhookDelivery), deliveries)
    head.size = first + len(changes)
    session.add(head)
    return indexes
