"""Cross-hub recognitions and the outbox of hub-to-hub messages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from hub.models import json_column, timestamp_column, utcnow


class Role(StrEnum):
    ORIGIN = "origin"  # this hub serves the origin registry: it forwarded the recognition
    DESTINATION = "destination"  # this hub serves the destination: it received and decides it


class FederatedRecognition(SQLModel, table=True):
    """A recognition that crosses hubs: both hubs store it under the same id (the origin hub's).
    ``signatures`` holds each hub's JWS over the one canonical certificate and its log index."""

    __tablename__ = "federated_recognition"

    recognition_id: str = Field(primary_key=True, max_length=36)
    role: str = Field(max_length=16)
    peer_origin: str = Field(max_length=200, index=True)
    signatures: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


PENDING, DELIVERED, REFUSED = "pending", "delivered", "refused"


class PeerMessage(SQLModel, table=True):
    """One signed request to a peer, written in the transaction that needs it, sent by the peer
    worker until the peer answers; its ``id`` is the request's ``jti`` on every attempt, so the
    peer acts once however often it is sent."""

    __tablename__ = "peer_message"
    __table_args__ = (UniqueConstraint("kind", "subject", "peer_origin", name="uq_peer_message_subject"),)

    id: str = Field(primary_key=True, max_length=36)
    peer_origin: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    subject: str = Field(max_length=128)
    path: str = Field(max_length=300)
    body: dict[str, Any] = Field(sa_column=json_column())
    status: str = Field(default=PENDING, max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answer: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    answered_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
