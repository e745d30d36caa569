from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from hub.models import json_column, timestamp_column, utcnow


class Transfer(SQLModel, table=True):
    __tablename__ = "transfer"
    __table_args__ = (
        UniqueConstraint("client_id", "idempotency_key", name="transfer_idempotency"),
        Index("ix_transfer_due", "state", "next_attempt_at"),
    )

    id: str = Field(primary_key=True, max_length=128)
    client_id: str = Field(max_length=64)
    idempotency_key: str = Field(max_length=200)
    body_hash: str = Field(max_length=64)
    origin: str = Field(max_length=16, index=True)
    destination: str = Field(max_length=16, index=True)
    state: str = Field(max_length=32)
    itl_status: int
    quantity: int = Field(sa_type=BigInteger)
    request: dict[str, Any] = Field(sa_column=json_column())
    history: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    deadline: datetime = Field(sa_column=timestamp_column())
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class TransferBatch(SQLModel, table=True):
    """A batch of proposals, kept for its ``Idempotency-Key``: the same key and body get the stored
    answer again, the same key with another body is refused (6004)."""

    __tablename__ = "transfer_batch"

    client_id: str = Field(primary_key=True, max_length=64)
    idempotency_key: str = Field(primary_key=True, max_length=200)
    body_hash: str = Field(max_length=64)
    answer: dict[str, Any] = Field(sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
