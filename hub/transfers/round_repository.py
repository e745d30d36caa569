"""The transfer worker's queries, as Core statements on plain rows (building ORM objects for a
round of hundreds of transfers cost more than its statements): the lease, the round's transfers
locked in id order, the blocks a round reads, and the round's steps written back together."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, String, Table, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, SQLModel

from hub.multirow import insert_rows, update_rows


@dataclass(slots=True)
class TransferRow:
    """The columns of a transfer the worker reads and writes (``history`` only when locked for
    a round's record)."""

    id: str
    state: str
    origin: str
    destination: str
    attempts: int
    deadline: datetime
    request: dict[str, Any]
    history: list[dict[str, Any]] | None = None
    itl_status: int | None = None  # set with a step
    next_attempt_at: datetime | None = None  # set with a step

    def step(self) -> dict[str, Any]:
        """The columns a step wrote (``TransferRounds.write_steps``)."""
        return {
            "id": self.id,
            "state": self.state,
            "itl_status": self.itl_status,
            "request": self.request,
            "history": self.history,
            "next_attempt_at": self.next_attempt_at,
        }


@dataclass(slots=True)
class BlockRow:
    """A credit block as a plain row: the attributes of :class:`hub.registry.models.CreditBlock`
    (``hub.registry.splits`` derives pieces from either)."""

    block_id: str
    origin_registry: str
    current_registry: str
    serial_namespace: str
    serial_start: int
    serial_end: int
    quantity: int
    vintage: int
    catalogue_id: str
    project_registry: str
    project_id: str
    holder_account: str
    status: str
    record: dict[str, Any]
    batch_id: str
    root_block_id: str | None


BLOCK_COLUMNS = tuple(f.name for f in fields(BlockRow))


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _ids(column: Any, postgresql: bool) -> Any:
    """``column IN (:ids…)``; on PostgreSQL ``column = ANY(:ids)``: one array parameter, so the
    statement's text stays the same whatever the number of ids (the driver parses each new text)."""
    if postgresql:
        return column == any_(bindparam("ids", type_=ARRAY(String())))
    return column.in_(bindparam("ids", expanding=True))


@functools.cache
def _statements(postgresql: bool) -> dict[str, Executable]:
    """The worker's statements, built once per dialect."""
    transfer, block = _table("transfer"), _table("credit_block")
    leased = [transfer.c[name] for name in ("id", "state", "origin", "destination", "attempts")]
    leased += [transfer.c.deadline, transfer.c.request]
    return {
        "due": select(*leased)
        .where(
            transfer.c.state.in_(bindparam("states", expanding=True)),
            transfer.c.next_attempt_at <= bindparam("now"),
        )
        .order_by(transfer.c.next_attempt_at)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True),
        "push_back": update(transfer)
        .where(_ids(transfer.c.id, postgresql))
        .values(next_attempt_at=bindparam("at")),
        "locked": select(*leased, transfer.c.history)
        .where(_ids(transfer.c.id, postgresql))
        .order_by(transfer.c.id)
        .with_for_update(),
        "blocks": select(*(block.c[name] for name in BLOCK_COLUMNS)).where(
            _ids(block.c.block_id, postgresql)
        ),
    }


class TransferRounds:
    """The queries of the worker's rounds."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _run(self, name: str, params: dict[str, Any]) -> Any:
        connection = self.session.connection()
        return connection.execute(_statements(connection.dialect.name == "postgresql")[name], params)

    def due(self, now: datetime, limit: int, states: Sequence[str]) -> list[TransferRow]:
        """Up to ``limit`` due transfers in ``states``, oldest due first, locked for this worker
        (others skip them; SQLite: the write transaction is serialized already)."""
        rows = self._run("due", {"states": list(states), "now": now, "limit": limit})
        return [TransferRow(*row) for row in rows]

    def push_back(self, ids: Sequence[str], at: datetime) -> None:
        """Look at ``ids`` again no sooner than ``at`` (the lease), in one statement."""
        if ids:
            self._run("push_back", {"ids": list(ids), "at": at})

    def locked(self, ids: Iterable[str]) -> dict[str, TransferRow]:
        """The transfers ``ids`` with their history, locked in id order until the transaction ends."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = self._run("locked", {"ids": wanted})
        return {row.id: TransferRow(*row) for row in rows}

    def write_steps(self, steps: list[dict[str, Any]]) -> None:
        """The round's applied steps written back together: each transfer's ``state``,
        ``itl_status``, ``request``, ``history`` and ``next_attempt_at``, its ``attempts`` and
        ``last_error`` cleared."""
        rows = [step | {"attempts": 0, "last_error": None} for step in steps]
        update_rows(self.session.connection(), _table("transfer"), "id", rows)

    def blocks(self, block_ids: Iterable[str]) -> dict[str, BlockRow]:
        """The registered blocks among ``block_ids`` as rows, read now (a split earlier in this
        transaction may have replaced them)."""
        wanted = sorted(set(block_ids))
        if not wanted:
            return {}
        rows = self._run("blocks", {"ids": wanted})
        return {row.block_id: BlockRow(*row) for row in rows}

    def set_statuses(self, changes: list[dict[str, Any]]) -> None:
        """Blocks' ``status`` and ``record`` (by ``block_id``) written together."""
        update_rows(self.session.connection(), _table("credit_block"), "block_id", changes)

    def insert_blocks(self, rows: list[dict[str, Any]]) -> None:
        """New blocks (the round's credits), in one statement."""
        insert_rows(self.session.connection(), _table("credit_block"), rows)

    def reimport(self, rows: list[dict[str, Any]]) -> None:
        """Exported blocks coming back: their ``status``, ``holder_account`` and ``record``."""
        update_rows(self.session.connection(), _table("credit_block"), "block_id", rows)
