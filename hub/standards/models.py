"""Installed committee roots and published rulesets, each kept exactly as it was received."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, Text
from sqlmodel import Field, SQLModel

from hub.models import json_column, timestamp_column, utcnow


class CommitteeRootRecord(SQLModel, table=True):
    __tablename__ = "committee_root"

    committee_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    envelope: dict[str, Any] = Field(sa_column=json_column())
    received: str = Field(sa_column=Column(Text, nullable=False), description="The envelope as received.")
    expires: datetime = Field(sa_column=timestamp_column())
    installed_by: str = Field(max_length=64)
    installed_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class RulesetRecord(SQLModel, table=True):
    __tablename__ = "ruleset"

    ruleset_id: str = Field(primary_key=True, max_length=128)
    version: int = Field(primary_key=True)
    committee_id: str = Field(max_length=64, index=True)
    envelope: dict[str, Any] = Field(sa_column=json_column())
    received: str = Field(sa_column=Column(Text, nullable=False), description="The envelope as received.")
    digest: str = Field(max_length=64)
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    effective_until: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    signed_by: list[str] = Field(default_factory=list, sa_column=json_column())
    published_by: str = Field(max_length=64)
    published_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
