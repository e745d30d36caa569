"""Every query on the stored checkpoint."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hub.tlog.models import LogCheckpoint

TABLE = LogCheckpoint.__table__  # type: ignore[attr-defined]


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
