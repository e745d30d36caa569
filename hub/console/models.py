from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hub.models import timestamp_column, utcnow


class OperatorAccount(SQLModel, table=True):
    """A person who signs in to the console; belongs to one region (a platform code)."""

    __tablename__ = "operator_account"

    username: str = Field(primary_key=True, max_length=64)
    region: str = Field(max_length=16)
    password_hash: str = Field(max_length=200)
    failed_attempts: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "console_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=64, index=True)
    csrf_token: str = Field(max_length=64)
    expires_at: datetime = Field(sa_column=timestamp_column())
