"""The claim feed's exchange form: what a hub asks (``FeedRequest``) and answers (``FeedAnswer``).

Only pseudonymous facts cross: a project's fingerprint (a hash of its methodology family, place,
capacity and its owner's keyed hash) with the registry and period, and a personal activity's keyed
subject pseudonym, scenario, window and trip id. The answer is strict (unknown members, bad
identifiers, reversed periods are refused): the pulling hub stores nothing from an answer that
does not validate."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from hub.records import Public
from hub.text import Integer

REGISTRY = r"^[A-Z][A-Z0-9]{1,15}$"
IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
CATALOGUE = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$"
HEX64 = r"^[0-9a-f]{64}$"

Registry = Annotated[str, Field(pattern=REGISTRY)]
Identifier = Annotated[str, Field(pattern=IDENTIFIER, max_length=128)]
Hex64 = Annotated[str, Field(pattern=HEX64)]
Index = Annotated[Integer, Field(ge=0, le=2**62)]
LIMIT = 1000


class Strict(Public):
    """Unknown members are refused, both ways."""


class FeedCursor(Strict):
    """A position in a hub's claim feed: the log index of the ingest that made the claim and the
    claim's position in it."""

    log_index: Index
    position: Index

    def key(self) -> tuple[int, int]:
        return self.log_index, self.position


class FeedRequest(Strict):
    after: FeedCursor | None = Field(default=None, description="The last claim seen; none: from the start.")
    limit: Integer = Field(default=500, ge=1, le=LIMIT)


class Period(Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")
        return self


class Window(Strict):
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("instants carry their offset")
        if self.end <= self.start:
            raise ValueError("the window ends before it starts")
        return self


class IssuanceFeedClaim(Strict):
    """A block's claim on a project for a monitoring period."""

    kind: Literal["issuance"]
    log_index: Index
    position: Index
    registry: Registry
    block_id: Identifier
    fingerprint: Hex64 = Field(description="mutual_recognition.dedup.project_fingerprint")
    period: Period


class ActivityFeedClaim(Strict):
    """A personal activity counted by a platform (the subject a keyed pseudonym)."""

    kind: Literal["activity"]
    log_index: Index
    position: Index
    registry: Registry
    batch_id: Identifier
    record_id: Identifier
    subject: Hex64
    scenario: Annotated[str, Field(pattern=CATALOGUE, max_length=64)]
    window: Window
    trip_id: Identifier | None = None


FeedClaim = Annotated[IssuanceFeedClaim | ActivityFeedClaim, Field(discriminator="kind")]


class FeedAnswer(Strict):
    origin: str = Field(description="The serving hub's origin.", max_length=200)
    key_check: Hex64 = Field(
        description="HMAC-SHA256 of a fixed label under the federation's pseudonymization key: "
        "equal on both hubs when they pseudonymize with the same key (the key never crosses)."
    )
    claims: list[FeedClaim] = Field(max_length=LIMIT)
    next: FeedCursor | None = Field(description="The cursor to ask after next (the last claim served).")
    more: bool = Field(description="True when the page was full: ask again at once.")


class ClaimFeedStatus(Public):
    """How far this hub has pulled a peer's claim feed and how the last pull went."""

    peer: str = Field(description="The peer's origin.")
    peer_status: str | None = Field(description="The peering's status (None: no longer registered).")
    after: FeedCursor | None = Field(description="The last claim stored (None: none yet).")
    claims: int = Field(ge=0, description="Claims received so far (a claim pulled again counts again).")
    issuance_claims: int = Field(ge=0, description="The peer's issuance claims stored here.")
    activity_claims: int = Field(ge=0, description="The peer's personal-activity claims stored here.")
    failures: int = Field(ge=0, description="Failed pulls in a row.")
    last_code: str | None = Field(description="The check code of the last refused pull (None: it went well).")
    last_error: str | None
    next_pull_at: datetime
