from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel

from hub.models import json_column, timestamp_column, utcnow


class Reconciliation(SQLModel, table=True):
    __tablename__ = "reconciliation"

    id: str = Field(primary_key=True, max_length=36)
    platform: str = Field(max_length=16, index=True)
    status: str = Field(max_length=40)
    submitted: dict[str, Any] = Field(sa_column=json_column())
    discrepancies: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    log_index: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    resolved_by: str | None = Field(default=None, max_length=64)
    resolution_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
