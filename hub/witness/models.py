"""The witness's state: the logs it witnesses, the latest checkpoint it cosigned per origin (moved
only by compare-and-swap on its size), the evidence of split views it saw (an unacknowledged row is
an alarm), and the size each witness of our own log last cosigned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from hub.models import timestamp_column, utcnow


class WitnessedLog(SQLModel, table=True):
    """A log this hub witnesses: its origin and the note keys (vkeys) trusted to sign it."""

    __tablename__ = "witnessed_log"

    origin: str = Field(sa_column=Column(String(255), primary_key=True))
    vkeys: str = Field(sa_column=Column(Text, nullable=False), description="One vkey per line.")
    base_url: str | None = Field(
        default=None, sa_column=Column(String(2048), nullable=True), description="Where it is monitored."
    )
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    added_by: str = Field(sa_column=Column(String(255), nullable=False))
    added_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class WitnessCheckpoint(SQLModel, table=True):
    """The latest checkpoint cosigned for an origin, its note as received."""

    __tablename__ = "witness_checkpoint"

    origin: str = Field(sa_column=Column(String(255), primary_key=True))
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    root_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    cosigned_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class WitnessEvidence(SQLModel, table=True):
    """Two checkpoints of one origin that disagree: the one cosigned before, the one refused and
    the proof that came with it. Until an administrator acknowledges it, it is an alarm."""

    __tablename__ = "witness_evidence"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    origin: str = Field(sa_column=Column(String(255), nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    source: str = Field(sa_column=Column(String(32), nullable=False))
    reporter: str = Field(sa_column=Column(String(255), nullable=False))
    stored_size: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    stored_root: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    stored_note: str = Field(sa_column=Column(Text, nullable=False))
    refused_size: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    refused_root: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    refused_note: str = Field(sa_column=Column(Text, nullable=False))
    proof: str = Field(sa_column=Column(Text, nullable=False))
    digest: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    received_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    acknowledged_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    acknowledged_by: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))


class WitnessSubmission(SQLModel, table=True):
    """What a witness of our log last said: the size it last cosigned (the next request's old size)."""

    __tablename__ = "witness_submission"

    witness: str = Field(sa_column=Column(String(1024), primary_key=True), description="Its vkey.")
    name: str = Field(sa_column=Column(String(255), nullable=False))
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(sa_column=Column(String(32), nullable=False))
    detail: str = Field(sa_column=Column(Text, nullable=False))
    attempted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
