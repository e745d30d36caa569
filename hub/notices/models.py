from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel

from hub.models import json_column, timestamp_column, utcnow

PENDING, ACKNOWLEDGED, REFUSED, DEAD = "pending", "acknowledged", "refused", "dead"


class OriginNotice(SQLModel, table=True):
    """One notice to one origin platform, kept until it acknowledged (2xx) or refused (4xx).

    ``kind`` is ``retirement`` or ``transfer-completed``; ``subject`` the retirement
    (``<registry>:<retirement id>``) or the transfer id; ``idempotency_key`` goes with every
    attempt, so the platform acts once however often it is told."""

    __tablename__ = "origin_notice"

    kind: str = Field(primary_key=True, max_length=32)
    subject: str = Field(primary_key=True, max_length=200)
    platform_code: str = Field(primary_key=True, max_length=16)
    idempotency_key: str = Field(sa_column=Column(String(64), nullable=False))
    body: dict[str, Any] = Field(sa_column=json_column())
    status: str = Field(default=PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
