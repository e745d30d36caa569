"""Recording a state change: one log entry (an ``event`` record, canonical JSON), the subtree
hashes it completes, its recipients and their webhook deliveries — in the caller's transaction,
so the change and its record commit or vanish together."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from hub.log.models import EventRecipient, LogEntry, LogNode, WebhookDelivery
from hub.log.repository import LogRepository
from hub.platforms.models import Platform
from schemas.canonical import canonicalize
from transparency import appended_nodes, frontier, leaf_hash


def event_id(index: int) -> str:
    return f"evt-{index}"


def record_change(
    session: Session,
    type: str,
    *,
    subject: tuple[str, str],
    actor: str,
    platforms: Iterable[str] = (),
    data: Mapping[str, Any] | None = None,
) -> int:
    """Append the change to the log; its index (also the event cursor)."""
    repository = LogRepository(session)
    head = repository.lock_head()
    index = head.size
    recipients = sorted(set(platforms))
    occurred = datetime.now(UTC).isoformat(timespec="milliseconds")
    entry = {
        "event_id": event_id(index),
        "log_index": index,
        "type": type,
        "occurred_at": occurred,
        "subject": {"kind": subject[0], "id": subject[1]},
        "platforms": recipients,
        "data": {"actor": actor, **(data or {})},
    }
    body = canonicalize(entry)
    leaf = leaf_hash(body)
    stored = repository.nodes(frontier(index))
    rows: list[object] = [
        LogEntry(index=index, entry=body, type=type, subject_kind=subject[0], subject_id=subject[1])
    ]
    rows += [
        LogNode(level=level, idx=idx, hash=value)
        for (level, idx), value in appended_nodes(index, leaf, stored)
    ]
    rows += [EventRecipient(platform_code=code, index=index) for code in recipients]
    hooks = session.exec(
        select(Platform.code, Platform.webhook_url).where(Platform.code.in_(recipients))  # type: ignore[attr-defined]
    ).all()
    rows += [WebhookDelivery(index=index, platform_code=code, url=url) for code, url in hooks if url]
    head.size = index + 1
    repository.add_all([*rows, head])
    repository.flush()
    return index
