"""What the log, event and webhook-delivery routes answer, typed."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from pydantic import Field

from hub.log.models import LogEntry, TreeHead, WebhookDelivery
from hub.records import Public, record_schema

EventRecord = Annotated[dict[str, Any], record_schema("event")]


class TreeHeadPublic(Public):
    """A signed tree head (RFC 9162 §4.10 in spirit): the JWS signs tree_size, root_hash, timestamp."""

    tree_size: int
    root_hash: str = Field(description="SHA-256 Merkle root, hex.")
    timestamp: int = Field(description="Milliseconds since the epoch.")
    signature: str = Field(description="Compact JWS (typ puhui-sth+jws) over the canonical head.")


class LogEntryPublic(Public):
    index: int
    leaf_hash: str | None = Field(description="SHA-256(0x00 ‖ entry bytes), hex.")
    entry_b64: str = Field(description="The entry's exact bytes (canonical JSON), base64.")
    entry: EventRecord


class InclusionProof(Public):
    leaf_index: int
    tree_size: int
    audit_path: list[str] = Field(description="RFC 9162 audit path, hex hashes.")


class ConsistencyProof(Public):
    first: int
    second: int
    consistency_path: list[str] = Field(description="RFC 9162 consistency path, hex hashes.")


class EventPage(Public):
    events: list[EventRecord]
    next_cursor: int = Field(description="Ask again with after=next_cursor.")


class DeliveryPublic(Public):
    event_id: str
    log_index: int
    platform: str
    url: str
    status: str = Field(description="pending, delivered or dead.")
    attempts: int
    next_attempt_at: str
    last_error: str | None
    delivered_at: str | None


def tree_head_public(head: TreeHead) -> TreeHeadPublic:
    return TreeHeadPublic(
        tree_size=head.size, root_hash=head.root_hash, timestamp=head.timestamp, signature=head.signature
    )


def log_entry_public(entry: LogEntry, leaf: bytes | None) -> LogEntryPublic:
    return LogEntryPublic(
        index=entry.index,
        leaf_hash=leaf.hex() if leaf is not None else None,
        entry_b64=base64.b64encode(entry.entry).decode("ascii"),
        entry=json.loads(entry.entry),
    )


def delivery_public(delivery: WebhookDelivery, event_id: str) -> DeliveryPublic:
    return DeliveryPublic(
        event_id=event_id,
        log_index=delivery.index,
        platform=delivery.platform_code,
        url=delivery.url,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at.isoformat(),
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at.isoformat() if delivery.delivered_at else None,
    )
