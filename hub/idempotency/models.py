"""The stored answers of idempotent requests, kept at least 24 hours."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from hub.models import timestamp_column, utcnow


class IdempotencyRecord(SQLModel, table=True):
    """What a client's request under one key did: its fingerprint (method, path, body) and the
    answer it got, written in the transaction of its effect — both commit or neither."""

    __tablename__ = "idempotency_record"

    client_id: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=220)
    fingerprint: str = Field(max_length=64)
    answer: str = Field(sa_column=Column(Text, nullable=False))  # JSON text: its members' order kept
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    expires_at: datetime = Field(sa_column=timestamp_column())
