"""Engines and the unit of work: the one place where the hub commits.

SQLite (the embedded default) runs in WAL mode and opens every transaction with ``BEGIN IMMEDIATE``
so that write transactions are serialized by the database, not by luck; PostgreSQL uses its own
row locks and constraints. Nothing another hub process needs is kept in this process's memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from hub import jsontext


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    # Every transaction opens with BEGIN IMMEDIATE: the dialect's own begin (a no-op for pysqlite
    # without the module's transactions) rather than a "begin" listener — any connection-level
    # listener makes SQLAlchemy dispatch its execute events around every statement.
    engine.dialect.do_begin = _begin_immediate  # type: ignore[method-assign]
    return engine


def _begin_immediate(dbapi_connection: Any) -> None:
    dbapi_connection.execute("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` configured for the hub's concurrency rules; JSON columns written and
    read through :mod:`hub.jsontext` (``json.dumps`` / ``json.loads``'s values, orjson's speed)."""
    kwargs.setdefault("json_serializer", jsontext.dumps)
    kwargs.setdefault("json_deserializer", jsontext.loads)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, **kwargs)
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    raise ValueError(f"unsupported database backend {backend!r}: use sqlite or postgresql")


LOG_QUEUE = "puhui.log.queue"  # changes queued for the log (hub.log.changes), appended by the commit
AFTER_COMMIT = "puhui.after_commit"  # callbacks of a unit of work, called once it committed
log = logging.getLogger("puhui.database")


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Call ``callback`` once ``session``'s unit of work has committed (``Database.finish``), in
    the thread that committed; never when it rolls back. For in-process signals only (waking a
    worker): what must happen with the commit is written in its transaction."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


class Database:
    """An engine plus the unit-of-work context in which every change is made and committed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session that commits when the block ends normally and rolls back otherwise."""
        session = self.session()
        try:
            yield session
        except BaseException:
            self.abandon(session)
            raise
        self.finish(session)

    def session(self) -> Session:
        """A new session for one unit of work (it connects on first use, in the thread using it)."""
        return Session(self.engine, expire_on_commit=False)

    @staticmethod
    def finish(session: Session) -> None:
        """End a unit of work: commit it (the log's queued changes are appended last, see
        ``hub.log.changes``) and close the session, then call its :func:`after_commit`
        callbacks; on failure roll back and raise (the callbacks are dropped)."""
        try:
            session.commit()
        except BaseException:
            session.info.pop(AFTER_COMMIT, None)
            session.rollback()
            session.close()
            raise
        callbacks = session.info.pop(AFTER_COMMIT, [])
        session.close()
        for callback in callbacks:
            try:
                callback()
            except Exception:  # committed already: a callback's failure is its own
                log.exception("a callback after a commit failed")

    @staticmethod
    def abandon(session: Session) -> None:
        """End a unit of work without keeping anything."""
        try:
            session.rollback()
        finally:
            session.info.pop(LOG_QUEUE, None)  # changes queued before any statement ran
            session.info.pop(AFTER_COMMIT, None)
            session.close()

    @staticmethod
    def pending(session: Session) -> bool:
        """Whether ending ``session`` has work to do (a transaction, or changes not yet flushed)."""
        queued = session.info.get(LOG_QUEUE)
        return bool(session.in_transaction() or session.new or session.dirty or session.deleted or queued)

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
