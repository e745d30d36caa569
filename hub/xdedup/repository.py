"""Every query of cross-hub deduplication: the claim feed, the pull cursors, peers' claims."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import tuple_
from sqlmodel import Session, col, select

from hub.registry.dedup import PEER_PREFIX
from hub.registry.models import IssuanceClaim, PersonalActivity
from hub.xdedup.models import ClaimFeedEntry, PeerClaimCursor

FEED_COLUMNS = (
    "log_index", "position", "kind", "registry_code", "ref", "key", "scenario", "starts", "ends", "trip_id",
)  # fmt: skip


class FeedRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the feed this hub serves ------------------------------------------------------------

    def append(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Rows in ``FEED_COLUMNS`` order: one COPY (PostgreSQL) or executemany (SQLite), on the
        ingest's path."""
        if not rows:
            return
        columns = ", ".join(FEED_COLUMNS)
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            driver: Any = connection.connection.driver_connection
            with driver.cursor() as cursor, cursor.copy(f"COPY claim_feed ({columns}) FROM STDIN") as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
        else:
            marks = ", ".join("?" * len(FEED_COLUMNS))
            connection.exec_driver_sql(
                f"INSERT INTO claim_feed ({columns}) VALUES ({marks})",  # noqa: S608
                list(rows),
            )

    def page(self, after: tuple[int, int], limit: int) -> Sequence[ClaimFeedEntry]:
        """The entries after ``after`` (log index, position), in order: one primary-key range."""
        query = (
            select(ClaimFeedEntry)
            .where(tuple_(col(ClaimFeedEntry.log_index), col(ClaimFeedEntry.position)) > tuple_(*after))
            .order_by(col(ClaimFeedEntry.log_index), col(ClaimFeedEntry.position))
            .limit(limit)
        )
        return self.session.exec(query).all()

    # -- the feeds this hub pulls ------------------------------------------------------------

    def cursor(self, peer_origin: str, *, for_update: bool = False) -> PeerClaimCursor | None:
        return self.session.get(
            PeerClaimCursor, peer_origin, with_for_update=for_update or None, populate_existing=for_update
        )

    def cursors(self) -> Sequence[PeerClaimCursor]:
        return self.session.exec(select(PeerClaimCursor).order_by(col(PeerClaimCursor.peer_origin))).all()

    def add_cursor(self, cursor: PeerClaimCursor) -> PeerClaimCursor:
        self.session.add(cursor)
        self.session.flush()
        return cursor

    def stored_issuances(self, block_ids: Sequence[str]) -> set[str]:
        if not block_ids:
            return set()
        query = select(IssuanceClaim.block_id).where(col(IssuanceClaim.block_id).in_(list(block_ids)))
        return set(self.session.exec(query).all())

    def stored_activities(self, batch_ids: Sequence[str]) -> set[tuple[str, str]]:
        if not batch_ids:
            return set()
        query = select(PersonalActivity.batch_id, PersonalActivity.record_id).where(
            col(PersonalActivity.batch_id).in_(sorted(set(batch_ids)))
        )
        return {(batch, record) for batch, record in self.session.exec(query).all()}

    def peer_claim_counts(self, peer_origin: str) -> tuple[int, int]:
        """How many issuance and activity claims of ``peer_origin`` are stored (for tests, CLI)."""
        prefix = f"{PEER_PREFIX}{peer_origin}/%"
        issuances = self.session.exec(
            select(IssuanceClaim.block_id).where(col(IssuanceClaim.block_id).like(prefix))
        ).all()
        activities = self.session.exec(
            select(PersonalActivity.id).where(col(PersonalActivity.batch_id).like(prefix))
        ).all()
        return len(issuances), len(activities)
