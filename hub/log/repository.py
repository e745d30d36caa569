"""Every query on the log, its nodes, heads, recipients and deliveries."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Table, bindparam, text, update
from sqlmodel import Session, SQLModel, col, select

from hub.driver import in_names, in_values, run, run_sql
from hub.log.models import EventRecipient, LogEntry, LogHead, LogNode, TreeHead, WebhookDelivery
from hub.multirow import insert_many
from hub.platforms.models import Platform
from transparency import Node

APPENDED = ("log_entry", "log_node", "event_recipient", "webhook_delivery")


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


@functools.cache
def _statements() -> dict[str, Executable]:
    """The append's statements, built once (building and hashing an expression tree costs more
    than running it)."""
    head = _table("log_head")
    return {
        "reserve": update(head)
        .where(head.c.id == 1)
        .values(size=head.c.size + bindparam("count"))
        .returning(head.c.size),
        # PostgreSQL: the two above in one statement (the head's row: no code; a platform's: no size)
        "reserve_webhooks": text(
            "WITH reserved AS (UPDATE log_head SET size = size + :count WHERE id = 1 RETURNING size)"
            " SELECT NULL AS code, NULL AS url, size FROM reserved"
            " UNION ALL SELECT code, webhook_url, NULL FROM platform WHERE code = ANY(CAST(:codes AS text[]))"
        ),
    }


@functools.cache
def _webhooks(count: int) -> Executable:
    """The webhook URLs of ``count`` platforms (one statement per count: a fixed SQL for
    ``hub.driver.run``; there are as many counts as platforms)."""
    platform = _table(str(Platform.__tablename__))
    return select(platform.c.code, platform.c.webhook_url).where(platform.c.code.in_(in_names("code", count)))


class LogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_head(self) -> LogHead:
        """The head row, locked until the transaction ends and read afresh (``reserve`` moves it
        with a Core statement, so a copy already in the session would be stale)."""
        statement = (
            select(LogHead).where(LogHead.id == 1).with_for_update().execution_options(populate_existing=True)
        )
        return self.session.exec(statement).one()

    def reserve(self, count: int) -> int:
        """Grow the log by ``count`` and return the first new index, in one statement that locks
        the head row until the transaction ends (SQLite: the write lock is already held)."""
        size = run(self.session.connection(), _statements()["reserve"], {"count": count}).scalar_one()
        return int(size) - count

    def reserve_with_webhooks(
        self, count: int, platforms: Collection[str]
    ) -> tuple[int, dict[str, str | None]]:
        """``reserve(count)`` and ``webhook_urls(platforms)``: one round trip on PostgreSQL (the
        head row's update and the platforms' read in one statement)."""
        connection = self.session.connection()
        if connection.dialect.name != "postgresql" or not platforms:
            return self.reserve(count), self.webhook_urls(platforms)
        rows = run(
            connection, _statements()["reserve_webhooks"], {"count": count, "codes": sorted(platforms)}
        )
        size, hooks = None, {}
        for code, url, reserved in rows:
            if code is None:
                size = reserved
            else:
                hooks[str(code)] = url
        if size is None:
            raise RuntimeError("the log has no head row")
        return int(size) - count, hooks

    def webhook_urls(self, platforms: Collection[str]) -> dict[str, str | None]:
        """The webhook URL of each of ``platforms`` that exists."""
        if not platforms:
            return {}
        rows = run(self.session.connection(), _webhooks(len(platforms)), in_values("code", sorted(platforms)))
        return {str(code): url for code, url in rows}

    def insert_appended(
        self,
        entries: list[dict[str, Any]],
        nodes: list[dict[str, Any]],
        recipients: list[dict[str, Any]],
        deliveries: list[dict[str, Any]],
    ) -> None:
        """Write appended entries with their nodes, recipients and deliveries: one statement on
        PostgreSQL (``hub.multirow.insert_many``; SQLite: an ``executemany`` per table)."""
        insert_many(
            self.session.connection(),
            [
                (_table("log_entry"), entries),
                (_table("log_node"), nodes),
                (_table("event_recipient"), recipients),
                (_table("webhook_delivery"), deliveries),
            ],
        )

    def size(self) -> int:
        return int(self.session.exec(select(LogHead.size).where(LogHead.id == 1)).one())

    def nodes(self, wanted: Iterable[Node]) -> dict[Node, bytes]:
        """The stored hashes of ``wanted`` nodes in one round trip, one indexed probe per level.

        Proofs sit on the hot path, so the SQL is built as a string (a row-value IN list would be a
        scan on SQLite, and an expression tree costs more to build than the query takes to run)."""
        by_level: dict[int, list[int]] = {}
        for level, idx in set(wanted):
            by_level.setdefault(level, []).append(idx)
        if not by_level:
            return {}
        connection = self.session.connection()
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        clauses, params = [], []
        for level, idxs in by_level.items():
            clauses.append(f"(level = {mark} AND idx IN ({', '.join([mark] * len(idxs))}))")
            params += [level, *idxs]
        sql = "SELECT level, idx, hash FROM log_node WHERE " + " OR ".join(clauses)  # noqa: S608 (bound parameters only)
        rows = run_sql(connection, sql, tuple(params))
        return {(level, idx): bytes(value) for level, idx, value in rows}

    def add_all(self, rows: Iterable[object]) -> None:
        self.session.add_all(list(rows))

    def flush(self) -> None:
        self.session.flush()

    def entry(self, index: int) -> LogEntry | None:
        return self.session.get(LogEntry, index)

    def entries(self, start: int, end: int) -> Sequence[LogEntry]:
        return self.session.exec(
            select(LogEntry)
            .where(col(LogEntry.index) >= start, col(LogEntry.index) < end)
            .order_by(col(LogEntry.index))
        ).all()

    def leaf_hashes(self, start: int, end: int) -> dict[int, bytes]:
        rows = self.session.exec(
            select(LogNode).where(LogNode.level == 0, col(LogNode.idx) >= start, col(LogNode.idx) < end)
        ).all()
        return {row.idx: row.hash for row in rows}

    def head(self, size: int) -> TreeHead | None:
        return self.session.get(TreeHead, size)

    def heads(self, after: int, limit: int) -> Sequence[TreeHead]:
        return self.session.exec(
            select(TreeHead).where(col(TreeHead.size) > after).order_by(col(TreeHead.size)).limit(limit)
        ).all()

    def events_for(self, platform: str, after: int, limit: int) -> Sequence[LogEntry]:
        return self.session.exec(
            select(LogEntry)
            .join(EventRecipient, col(EventRecipient.index) == col(LogEntry.index))
            .where(EventRecipient.platform_code == platform, col(LogEntry.index) > after)
            .order_by(col(LogEntry.index))
            .limit(limit)
        ).all()

    def due_deliveries(self, now: datetime, limit: int) -> Sequence[WebhookDelivery]:
        """Pending deliveries that are due, locked for this worker (others skip them)."""
        return self.session.exec(
            select(WebhookDelivery)
            .where(WebhookDelivery.status == "pending", col(WebhookDelivery.next_attempt_at) <= now)
            .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.index))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()

    def delivery(self, index: int, platform: str) -> WebhookDelivery | None:
        return self.session.get(WebhookDelivery, (index, platform))

    def bodies(self, indexes: Collection[int]) -> dict[int, bytes]:
        """The entries at ``indexes`` (what their webhooks deliver), by index."""
        return dict(
            self.session.exec(
                select(LogEntry.index, LogEntry.entry).where(col(LogEntry.index).in_(list(indexes)))
            ).all()
        )

    def deliveries(
        self, platforms: Collection[str] | None, status: str | None, limit: int
    ) -> Sequence[WebhookDelivery]:
        """The newest deliveries to ``platforms`` (None: to every platform)."""
        query = select(WebhookDelivery).order_by(col(WebhookDelivery.index).desc()).limit(limit)
        if platforms is not None:
            query = query.where(col(WebhookDelivery.platform_code).in_(sorted(platforms)))
        if status:
            query = query.where(WebhookDelivery.status == status)
        return self.session.exec(query).all()
