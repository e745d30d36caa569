"""One row per transfer crossing hubs, on each hub (its role: origin or destination)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from hub.models import json_column, timestamp_column, utcnow


class Side(StrEnum):
    ORIGIN = "origin"  # this hub drives the origin platform (lock, unlock)
    DESTINATION = "destination"  # this hub drives the destination platform (credit)


class FederatedTransfer(SQLModel, table=True):
    """A transfer's half on this hub. At the origin: the phase of the exchange beside the saga's
    ``transfer`` row. At the destination: the offered records, the account, the phase, the credit
    attempts (its worker) and the blocks it registered (their provenance: the peer, the transfer)."""

    __tablename__ = "federated_transfer"
    __table_args__ = (
        Index("ix_federated_transfer_due", "role", "phase", "next_attempt_at"),
        # a transfer id names one transfer per role on this hub, whichever peer sent it
        Index("uq_federated_transfer_id_role", "transfer_id", "role", unique=True),
    )

    peer_origin: str = Field(primary_key=True, max_length=200)
    transfer_id: str = Field(primary_key=True, max_length=128)
    role: str = Field(primary_key=True, max_length=16)
    phase: str = Field(max_length=16)
    origin_registry: str = Field(max_length=16)
    destination_registry: str = Field(max_length=16)
    quantity: int = Field(sa_type=BigInteger)
    request: dict[str, Any] = Field(sa_column=json_column())
    credited: list[str] = Field(default_factory=list, sa_column=json_column())
    history: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
