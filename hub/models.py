"""Shared column helpers for SQLModel tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_column(*, nullable: bool = False) -> Any:
    return Column(JSONType, nullable=nullable)


class UtcTimestamp(TypeDecorator[datetime]):
    """A moment, written in UTC on every backend: an aware value is converted (SQLite keeps no
    offset, so a +08:00 value would be stored as its wall-clock time, eight hours from what
    PostgreSQL stores), a naive one is taken as UTC (PostgreSQL would read it in the session's
    time zone). Read back as each backend reads ``DateTime(timezone=True)``."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def timestamp_column(*, nullable: bool = False) -> Any:
    return Column(UtcTimestamp(), nullable=nullable)
