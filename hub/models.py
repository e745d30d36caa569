"""Shared column helpers for SQLModel tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_column(*, nullable: bool = False) -> Any:
    return Column(JSONType, nullable=nullable)


def timestamp_column(*, nullable: bool = False) -> Any:
    return Column(DateTime(timezone=True), nullable=nullable)
