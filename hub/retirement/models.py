from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from hub.models import json_column, timestamp_column, utcnow


class RetirementRecord(SQLModel, table=True):
    __tablename__ = "retirement"

    registry_code: str = Field(primary_key=True, max_length=16)
    retirement_id: str = Field(primary_key=True, max_length=128)
    purpose: str = Field(max_length=40)
    quantity: int = Field(sa_type=BigInteger)
    record: dict[str, Any] = Field(sa_column=json_column())
    log_index: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
