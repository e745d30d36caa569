"""Every query on the stored checkpoint, and the reads tiles, entry bundles and proofs make."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hub.log.models import LogEntry, LogNode
from hub.tlog.models import LogCheckpoint

TABLE = LogCheckpoint.__table__  # type: ignore[attr-defined]
NODES = LogNode.__table__  # type: ignore[attr-defined]
ENTRIES = LogEntry.__table__  # type: ignore[attr-defined]


class CheckpointRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def latest(self, origin: str) -> LogCheckpoint | None:
        found = self.session.get(LogCheckpoint, origin, populate_existing=True)
        return found

    def create(self, origin: str, size: int, root: bytes, note: str, at: datetime) -> bool:
        """Store the first checkpoint; False if another writer stored one first."""
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(TABLE).values(
                        origin=origin, size=size, root_hash=root, note=note, cosignatures="", signed_at=at
                    )
                )
        except IntegrityError:
            return False
        return True

    def advance(self, origin: str, old_size: int, size: int, root: bytes, note: str, at: datetime) -> bool:
        """Move the checkpoint from ``old_size`` to ``size`` (compare-and-swap); False if it moved."""
        moved = self.session.execute(
            update(TABLE)
            .where(TABLE.c.origin == origin, TABLE.c.size == old_size)
            .values(size=size, root_hash=root, note=note, cosignatures="", signed_at=at)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]

    def set_cosignatures(self, origin: str, size: int, old: str, new: str) -> bool:
        """Replace the cosignature lines of the checkpoint of ``size`` if they are still ``old``."""
        moved = self.session.execute(
            update(TABLE)
            .where(TABLE.c.origin == origin, TABLE.c.size == size, TABLE.c.cosignatures == old)
            .values(cosignatures=new)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]


class TileRepository:
    """The rows a tile or an entry bundle is made of: one range query each."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def node_range(self, level: int, start: int, end: int) -> list[bytes]:
        """The stored hashes of subtrees ``(level, start .. end-1)``, in order (missing ones left out)."""
        rows = self.session.execute(
            select(NODES.c.hash)
            .where(NODES.c.level == level, NODES.c.idx >= start, NODES.c.idx < end)
            .order_by(NODES.c.idx)
        )
        return [bytes(value) for (value,) in rows]

    def entry_range(self, start: int, end: int) -> list[bytes]:
        """The bytes of entries ``start .. end-1``, in order."""
        rows = self.session.execute(
            select(ENTRIES.c.entry)
            .where(ENTRIES.c.index >= start, ENTRIES.c.index < end)
            .order_by(ENTRIES.c.index)
        )
        return [bytes(value) for (value,) in rows]

    def entry(self, index: int) -> bytes | None:
        value = self.session.execute(select(ENTRIES.c.entry).where(ENTRIES.c.index == index)).scalar()
        return None if value is None else bytes(value)

    def event_index(self, subject_kind: str, subject_id: str, type: str) -> int | None:
        """The index of the (first) entry of ``type`` about the subject (e.g. a transfer's completion)."""
        value = self.session.execute(
            select(ENTRIES.c.index)
            .where(
                ENTRIES.c.subject_id == subject_id,
                ENTRIES.c.subject_kind == subject_kind,
                ENTRIES.c.type == type,
            )
            .order_by(ENTRIES.c.index)
            .limit(1)
        ).scalar()
        return None if value is None else int(value)
