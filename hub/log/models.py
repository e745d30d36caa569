"""Log entries, stored subtree hashes, signed tree heads, event recipients, webhook deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, LargeBinary, SmallInteger, String, Text
from sqlmodel import Field, SQLModel

from hub.models import timestamp_column, utcnow


class LogHead(SQLModel, table=True):
    """One row: the size of the log. Appends lock it, so indexes are gap-free and commit in order."""

    __tablename__ = "log_head"

    id: int = Field(default=1, primary_key=True)
    size: int = Field(default=0, sa_type=BigInteger)


class LogEntry(SQLModel, table=True):
    __tablename__ = "log_entry"

    index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    entry: bytes = Field(sa_column=Column(LargeBinary, nullable=False), description="Canonical JSON.")
    type: str = Field(max_length=64, index=True)
    subject_kind: str = Field(max_length=32)
    subject_id: str = Field(max_length=128, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class LogNode(SQLModel, table=True):
    """The root hash of the complete subtree ``(level, idx)``; level 0 holds leaf hashes."""

    __tablename__ = "log_node"

    level: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class TreeHead(SQLModel, table=True):
    __tablename__ = "tree_head"

    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root_hash: str = Field(max_length=64)
    timestamp: int = Field(sa_type=BigInteger, description="Milliseconds since the epoch.")
    signature: str = Field(sa_column=Column(Text, nullable=False), description="Compact JWS of the head.")


class EventRecipient(SQLModel, table=True):
    __tablename__ = "event_recipient"

    platform_code: str = Field(primary_key=True, max_length=16)
    index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"

    index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    platform_code: str = Field(primary_key=True, max_length=16)
    url: str = Field(sa_column=Column(String(500), nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    delivered_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
