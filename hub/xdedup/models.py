"""The claim feed this hub serves to its peers and the cursors of the feeds it pulls."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Integer, Text
from sqlmodel import Field, SQLModel

from hub.models import timestamp_column, utcnow

ISSUANCE, ACTIVITY = "issuance", "activity"


class ClaimFeedEntry(SQLModel, table=True):
    """One personal-activity claim of a local ingest, as published to peers. The feed is these
    and the local issuance claims (``issuance_claim`` rows with a log index: positions 0 .. n-1 of
    an ingest, its activities n ..), read together in (log index, position) order. Append-only:
    written in the ingest's transaction under the ingest's log index (indexes are gap-free and
    commit in order: the log head stays locked from the index's reservation to the commit), so a
    reader that has seen (index, position) has seen everything before it — the feed's cursor."""

    __tablename__ = "claim_feed"
    __table_args__ = (CheckConstraint("kind = 'activity'", name="ck_claim_feed_activity"),)

    log_index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    position: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    kind: str = Field(max_length=16, description="issuance or activity")
    registry_code: str = Field(max_length=16)
    ref: str = Field(max_length=260, description="The block id, or batch id/record id.")
    key: str = Field(max_length=64, description="The project fingerprint, or the subject's pseudonym.")
    scenario: str | None = Field(default=None, max_length=64)
    starts: str = Field(max_length=40, description="ISO date (issuance) or instant (activity).")
    ends: str = Field(max_length=40)
    trip_id: str | None = Field(default=None, max_length=128)


class PeerClaimCursor(SQLModel, table=True):
    """How far this hub has pulled one peer's feed (the last (log index, position) stored), and
    how the last pull went. Advanced in the transaction that stores the page's claims."""

    __tablename__ = "peer_claim_cursor"

    peer_origin: str = Field(primary_key=True, max_length=200)
    log_index: int = Field(default=-1, sa_column=Column(BigInteger, nullable=False))
    position: int = Field(default=-1, sa_column=Column(Integer, nullable=False))
    claims: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    failures: int = 0
    next_pull_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    pulled_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    last_code: str | None = Field(default=None, max_length=8)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
