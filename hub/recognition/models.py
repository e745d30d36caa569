from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel

from hub.models import json_column, timestamp_column, utcnow


class Recognition(SQLModel, table=True):
    __tablename__ = "recognition"

    id: str = Field(primary_key=True, max_length=36)
    request_id: str = Field(max_length=128)
    origin: str = Field(max_length=16, index=True)
    destination: str = Field(max_length=16, index=True)
    purpose: str = Field(max_length=40)
    status: str = Field(max_length=32)
    quantity: int = Field(sa_type=BigInteger)
    converted_quantity: int = Field(sa_type=BigInteger)
    request: dict[str, Any] = Field(sa_column=json_column())
    evaluation: dict[str, Any] = Field(sa_column=json_column())
    checks: list[dict[str, Any]] = Field(sa_column=json_column())
    approvals: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    decision_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    certificate: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    certificate_jws: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    requested_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    decided_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    used_by: str | None = Field(
        default=None, max_length=160, description="The transfer or retirement that used the certificate."
    )
