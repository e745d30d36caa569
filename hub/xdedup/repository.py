"""Every query of cross-hub deduplication: the claim feed, the pull cursors, peers' claims."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlmodel import Session, col, select

from hub.registry.dedup import PEER_PREFIX
from hub.registry.models import IssuanceClaim, PersonalActivity
from hub.xdedup.models import PeerClaimCursor

FEED_COLUMNS = (
    "log_index", "position", "kind", "registry_code", "ref", "key", "scenario", "starts", "ends", "trip_id",
)  # fmt: skip


class FeedEntry(NamedTuple):
    """One claim of the feed, in ``FEED_COLUMNS`` order (``starts``, ``ends``: ISO text)."""

    log_index: int
    position: int
    kind: str
    registry_code: str
    ref: str
    key: str
    scenario: str | None
    starts: str
    ends: str
    trip_id: str | None


# The feed after a cursor: the published issuance claims (issuance_claim rows with a log index,
# ux_issuance_claim_feed) and the activity entries (claim_feed's primary key), each a range scan
# of at most :n rows from the cursor, merged in (log index, position) order.
FEED_PAGE_SQL = (
    "SELECT * FROM (SELECT * FROM (SELECT log_index, position, 'issuance' AS kind, registry_code,"
    " block_id AS ref, fingerprint AS key, NULL AS scenario, {start} AS starts, {end} AS ends,"
    " NULL AS trip_id FROM issuance_claim WHERE log_index IS NOT NULL"
    " AND (log_index, position) > (:log_index, :position) ORDER BY log_index, position LIMIT :n) AS issuances"
    " UNION ALL SELECT * FROM (SELECT log_index, position, kind, registry_code, ref, key, scenario, starts,"
    " ends, trip_id FROM claim_feed WHERE (log_index, position) > (:log_index, :position)"
    " ORDER BY log_index, position LIMIT :n) AS activities) AS feed ORDER BY log_index, position LIMIT :n"
)


class FeedRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the feed this hub serves ------------------------------------------------------------

    def append(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Activity entries, in ``FEED_COLUMNS`` order: one COPY (PostgreSQL) or executemany
        (SQLite), on the ingest's path. (An ingest's issuance entries are its issuance claims.)"""
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

    def page(self, after: tuple[int, int], limit: int) -> list[FeedEntry]:
        """The entries after ``after`` (log index, position), in order: two index ranges merged."""
        if self.session.get_bind().dialect.name == "postgresql":
            dates = {
                "start": "to_char(period_start, 'YYYY-MM-DD')",
                "end": "to_char(period_end, 'YYYY-MM-DD')",
            }
        else:  # SQLite keeps dates as ISO text
            dates = {"start": "period_start", "end": "period_end"}
        found = self.session.execute(
            text(FEED_PAGE_SQL.format(**dates)), {"log_index": after[0], "position": after[1], "n": limit}
        )
        return [FeedEntry(*row) for row in found]

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
