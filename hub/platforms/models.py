"""The platform entity: table model and its API shapes (FastAPI template's model family)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import String
from sqlmodel import Field, SQLModel

from hub.models import json_column, timestamp_column, utcnow
from hub.text import Integer, Text
from schemas.canonical import MAX_SAFE_INTEGER


class PlatformKind(StrEnum):
    PROVINCIAL = "provincial"
    MUNICIPAL = "municipal"
    NATIONAL = "national"
    HUB = "hub"


class PlatformStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class PlatformBase(SQLModel):
    code: Text = Field(primary_key=True, max_length=16, regex=r"^[A-Z][A-Z0-9]{1,15}$")
    name: Text = Field(max_length=200)
    name_zh: Text = Field(max_length=200)
    region: Text = Field(
        max_length=16, description="ISO 3166-2 code, e.g. CN-SH; CN for national registries."
    )
    kind: PlatformKind = Field(sa_type=String(16))
    api_base_url: Text = Field(max_length=500)
    webhook_url: Text | None = Field(default=None, max_length=500)
    grams_per_point: Integer | None = Field(
        default=None,
        ge=1,
        le=MAX_SAFE_INTEGER,
        description="How many grams one personal point is worth; None: not convertible.",
    )
    points_note: Text | None = Field(default=None, max_length=500)
    demonstration: bool = False


class Platform(PlatformBase, table=True):
    __tablename__ = "platform"

    status: PlatformStatus = Field(default=PlatformStatus.ACTIVE, sa_type=String(16))
    jwks: dict[str, Any] = Field(default_factory=lambda: {"keys": []}, sa_column=json_column())
    scopes: list[str] = Field(default_factory=list, sa_column=json_column())
    previous_jwks: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    previous_jwks_until: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    jwks_forced: bool = Field(
        default=False, description="The current keys were forced in by an administrators' override."
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class PlatformCreate(PlatformBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    jwks: dict[str, Any] = Field(default_factory=lambda: {"keys": []})
    scopes: list[Text] = Field(default_factory=list)


class KeyOverrideStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"


class KeyOverride(SQLModel, table=True):
    """An administrator's proposal to replace a platform's keys, applied when a second, distinct
    administrator approves it before it expires."""

    __tablename__ = "key_override"

    id: str = Field(primary_key=True, max_length=36)
    platform_code: str = Field(foreign_key="platform.code", index=True, max_length=16)
    jwks: dict[str, Any] = Field(sa_column=json_column())
    reason: str = Field(max_length=2000)
    status: KeyOverrideStatus = Field(default=KeyOverrideStatus.PENDING, sa_type=String(16))
    proposed_by: str = Field(max_length=64)
    proposed_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    expires_at: datetime = Field(sa_column=timestamp_column())
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
