"""Registered projects, credit blocks, personal batches and their activities, ingest batches."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Date, DateTime, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from hub.models import json_column, timestamp_column, utcnow


class ProjectRecord(SQLModel, table=True):
    __tablename__ = "project"

    registry_code: str = Field(primary_key=True, max_length=16)
    project_id: str = Field(primary_key=True, max_length=128)
    record: dict[str, Any] = Field(sa_column=json_column())
    batch_id: str = Field(max_length=36)


class CreditBlock(SQLModel, table=True):
    """A block of serialized credits. Active blocks never overlap within a serial namespace."""

    __tablename__ = "credit_block"
    # serial probes (ix_credit_block_serials) and listings by registry; nothing reads blocks by
    # ingest batch or by root, so those are not indexed (each index costs every insert)
    __table_args__ = (Index("ix_credit_block_serials", "serial_namespace", "serial_start"),)

    block_id: str = Field(primary_key=True, max_length=128)
    origin_registry: str = Field(max_length=16)
    current_registry: str = Field(max_length=16, index=True)
    serial_namespace: str = Field(max_length=16)
    serial_start: int = Field(sa_column=Column(BigInteger, nullable=False))
    serial_end: int = Field(sa_column=Column(BigInteger, nullable=False))
    quantity: int = Field(sa_column=Column(BigInteger, nullable=False))
    vintage: int = Field(sa_column=Column(Integer, nullable=False))
    catalogue_id: str = Field(max_length=64)
    project_registry: str = Field(max_length=16)
    project_id: str = Field(max_length=128)
    holder_account: str = Field(max_length=128)
    status: str = Field(sa_column=Column(String(16), nullable=False))
    record: dict[str, Any] = Field(sa_column=json_column())
    batch_id: str = Field(max_length=36)
    root_block_id: str | None = Field(
        default=None, max_length=128, description="The block as first issued (None: this block is it)."
    )


class PersonalBatch(SQLModel, table=True):
    __tablename__ = "personal_batch"

    batch_id: str = Field(primary_key=True, max_length=128)
    platform: str = Field(max_length=16, index=True)
    scenario: str = Field(max_length=64)
    quantity: int = Field(sa_column=Column(BigInteger, nullable=False), description="Grams.")
    record: dict[str, Any] = Field(sa_column=json_column())
    ingest_id: str = Field(max_length=36)


class IngestBatch(SQLModel, table=True):
    """One accepted upload: what it held and where the log recorded it."""

    __tablename__ = "ingest_batch"

    id: str = Field(primary_key=True, max_length=36)
    platform: str = Field(max_length=16, index=True)
    source: str = Field(max_length=64, description="Adapter format, or the exchange form.")
    projects: int = 0
    blocks: int = 0
    tonnes: int = Field(default=0, sa_type=BigInteger)
    personal_batches: int = 0
    grams: int = Field(default=0, sa_type=BigInteger)
    digest: str = Field(max_length=64, description="SHA-256 of the canonical records.")
    log_index: int = Field(sa_type=BigInteger)
    received_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class IssuanceClaim(SQLModel, table=True):
    """A stored block's claim on its project for its monitoring period (hub.registry.dedup).

    A local claim of an ingest is also the ingest's entry in the claim feed this hub serves its
    peers (hub.xdedup): ``log_index`` is the ingest's log index and ``position`` its place among the
    ingest's claims (activities follow in ``claim_feed``). A peer's claim, and a claim stored
    before the feed existed, has neither (not published)."""

    __tablename__ = "issuance_claim"
    __table_args__ = (
        # other registries' claims on a project overlapping a period: a range of this index each
        # side of the asking registry (RegistryRepository.issuance_candidates)
        Index("ix_issuance_claim_project", "fingerprint", "registry_code", "period_end"),
        # the feed's order and cursor (hub.xdedup.repository.FeedRepository.page)
        Index(
            "ux_issuance_claim_feed",
            "log_index",
            "position",
            unique=True,
            postgresql_where=text("log_index IS NOT NULL"),
            sqlite_where=text("log_index IS NOT NULL"),
        ),
    )

    block_id: str = Field(
        primary_key=True, max_length=400, description="A peer hub's claim: @<its origin>/<block id>."
    )
    registry_code: str = Field(max_length=16)
    fingerprint: str = Field(max_length=64)
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    log_index: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    position: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class PersonalActivity(SQLModel, table=True):
    __tablename__ = "personal_activity"
    __table_args__ = (
        Index("ix_personal_activity_subject", "subject", "scenario"),
        # a peer hub's activity is stored once (hub.xdedup)
        Index(
            "ux_personal_activity_peer",
            "batch_id",
            "record_id",
            unique=True,
            postgresql_where=text("batch_id LIKE '@%'"),
            sqlite_where=text("batch_id LIKE '@%'"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    platform: str = Field(max_length=16)
    batch_id: str = Field(max_length=400, description="A peer hub's activity: @<its origin>/<batch id>.")
    record_id: str = Field(max_length=128)
    subject: str = Field(max_length=64)
    scenario: str = Field(max_length=64)
    window_start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    window_end: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    trip_id: str | None = Field(default=None, max_length=128)


# pull mode's cursor per platform (hub.registry.sync)
class SyncCursor(SQLModel, table=True):
    __tablename__ = "sync_cursor"

    platform: str = Field(primary_key=True, max_length=16)
    cursor: str = Field(max_length=500)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
