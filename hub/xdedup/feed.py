"""The claim feed this hub serves its peers: written with each ingest, read by cursor.

Pull, not push: the feed is append-only rows written in the ingest's own transaction — its
issuance claims themselves (``issuance_claim`` rows carrying the ingest's log index and their
positions) and its activity entries (``claim_feed``), read merged in (log index, position) order —
(no message per peer and per ingest, nothing to retry when a peer is down); each peer pulls it at its
pace with a cursor it keeps in its own database and advances in the transaction that stores what
it pulled, so a pull repeated after a crash, or the same page pulled twice, stores nothing twice,
and a peer that was down for a week catches up by paging. Only local claims are published (never
a peer's): every hub pulls every peer it has, so the claims of a federation are those of its hubs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from hub.registry.federation_key import federation_key
from hub.settings import Settings
from hub.xdedup.models import ACTIVITY, ISSUANCE
from hub.xdedup.public import ActivityFeedClaim, FeedAnswer, FeedClaim, FeedCursor, IssuanceFeedClaim
from hub.xdedup.repository import FeedEntry, FeedRepository
from mutual_recognition.dedup import Activity

KEY_CHECK_LABEL = b"puhui-hub federation pseudonymization key check v1"


def key_check(settings: Settings) -> str:
    """A check value of the federation's pseudonymization key: equal on two hubs exactly when
    their keys are (HMAC of a fixed label; the key cannot be recovered from it)."""
    key = federation_key(settings.resolved_federation_key_file)
    return hmac.new(key, KEY_CHECK_LABEL, hashlib.sha256).hexdigest()


def _iso(moment: date | datetime) -> str:
    return moment.isoformat()


def publish_activities(session: Session, log_index: int, first: int, activities: Sequence[Activity]) -> None:
    """Append an ingest's activity claims to the feed under its log index, from position ``first``
    (in the ingest's transaction). Its issuance claims, positions 0 .. ``first`` - 1, are in the
    feed already: the ingest stored them with their log index and positions
    (``DedupService.record``)."""
    rows: list[tuple[Any, ...]] = [
        (log_index, first + position, ACTIVITY, activity.platform, activity.ref, activity.subject,
         activity.scenario, _iso(activity.start), _iso(activity.end), activity.trip_id)
        for position, activity in enumerate(activities)
    ]  # fmt: skip
    FeedRepository(session).append(rows)


def feed_claim(entry: FeedEntry) -> FeedClaim:
    if entry.kind == ISSUANCE:
        return IssuanceFeedClaim(
            kind="issuance", log_index=entry.log_index, position=entry.position,
            registry=entry.registry_code, block_id=entry.ref, fingerprint=entry.key,
            period={"start": entry.starts, "end": entry.ends},
        )  # fmt: skip
    batch_id, record_id = entry.ref.split("/", 1)
    return ActivityFeedClaim(
        kind="activity", log_index=entry.log_index, position=entry.position, registry=entry.registry_code,
        batch_id=batch_id, record_id=record_id, subject=entry.key, scenario=entry.scenario or "",
        window={"start": entry.starts, "end": entry.ends},
        trip_id=entry.trip_id,
    )  # fmt: skip


def feed_page(session: Session, settings: Settings, after: FeedCursor | None, limit: int) -> FeedAnswer:
    """The claims after ``after`` (at most ``limit``), with this hub's origin and key check."""
    entries = FeedRepository(session).page(after.key() if after else (-1, -1), limit)
    claims = [feed_claim(entry) for entry in entries]
    last = entries[-1] if entries else None
    return FeedAnswer(
        origin=settings.log_origin,
        key_check=key_check(settings),
        claims=claims,
        next=FeedCursor(log_index=last.log_index, position=last.position) if last else after,
        more=len(entries) == limit,
    )
