"""The serial-claim table: at most one active claim covers any serial of a namespace.

The database guarantees it on both backends: on PostgreSQL an exclusion constraint over the active
rows (``namespace WITH =, int8range(serial_start, serial_end, '[]') WITH &&``), on SQLite triggers
that refuse an active row overlapping another (SQLite write transactions are serialized already).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from hub.models import timestamp_column, utcnow


class SerialClaim(SQLModel, table=True):
    __tablename__ = "serial_claim"
    __table_args__ = (
        Index(
            "ix_serial_claim_active",
            "namespace",
            "serial_start",
            postgresql_where=text("active"),
            sqlite_where=text("active"),
        ),
        Index("ix_serial_claim_owner", "owner_id", "kind"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    namespace: str = Field(max_length=16)
    serial_start: int = Field(sa_column=Column(BigInteger, nullable=False))
    serial_end: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    owner_id: str = Field(max_length=160)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    released_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
