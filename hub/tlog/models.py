"""The latest checkpoint of the hub's log: one row per origin, only ever moved forward."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from hub.models import timestamp_column, utcnow


class LogCheckpoint(SQLModel, table=True):
    """The latest signed checkpoint. Moved by compare-and-swap on ``size`` only after the new tree
    was checked to extend the old one, so the hub never signs two inconsistent checkpoints."""

    __tablename__ = "log_checkpoint"

    origin: str = Field(sa_column=Column(String(255), primary_key=True))
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    root_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False), description="The note, log signatures only.")
    cosignatures: str = Field(
        default="",
        sa_column=Column(Text, nullable=False),
        description="Witness signature lines of this size.",
    )
    signed_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
