"""Splitting a registered block when parts of it are taken (retired, locked for a transfer): the
pieces keep their serials and the quantities sum to the original (``mutual_recognition.splitting``).
Piece ids are flat — ``<root>:<start>-<end>``, prefixed ``<registry>:`` outside the origin — so
a block's id never grows with splits; ``root_block_id`` names the block as first issued."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from hub.multirow import delete_rows, insert_rows
from hub.problems import Conflict
from hub.registry.models import CreditBlock
from hub.registry.repository import RegistryRepository
from mutual_recognition.splitting import block_base, piece_id, split_many


def root_of(block: CreditBlock) -> str:
    return block.root_block_id or block.block_id


def is_whole(block: CreditBlock) -> bool:
    """Whether ``block`` is its root block whole (not a piece of it)."""
    return block.block_id == block_base(root_of(block), block.origin_registry, block.current_registry)


def derived_id(block: CreditBlock, registry: str, start: int, end: int) -> str:
    """The id of serials [start, end] of ``block`` when held in ``registry``."""
    whole = is_whole(block) and (start, end) == (block.serial_start, block.serial_end)
    return piece_id(root_of(block), block.origin_registry, registry, start, end, whole=whole)


def derived_row(
    block: CreditBlock,
    start: int,
    end: int,
    *,
    status: str,
    registry: str | None = None,
    record_changes: dict[str, Any] | None = None,
    **columns: Any,
) -> dict[str, Any]:
    """The row of a block derived from ``block`` — a piece of it, or it held elsewhere — with
    serials [start, end], ``status``, held in ``registry`` (default: where ``block`` is), other
    ``columns`` changed, and its exchange record to match."""
    where = registry or block.current_registry
    block_id = derived_id(block, where, start, end)
    record = {
        **block.record,
        **(record_changes or {}),
        "block_id": block_id,
        "serial_start": start,
        "serial_end": end,
        "quantity": end - start + 1,
        "status": status,
    }
    return {
        **{name: getattr(block, name) for name in CreditBlock.model_fields},
        **columns,
        "block_id": block_id,
        "root_block_id": root_of(block),
        "current_registry": where,
        "serial_start": start,
        "serial_end": end,
        "quantity": end - start + 1,
        "status": status,
        "record": record,
    }


def split_block(
    session: Session, block: CreditBlock, taken: Sequence[tuple[int, int]], taken_status: str
) -> tuple[list[str], list[str]]:
    """Replace ``block`` by its pieces, the ``taken`` ranges getting ``taken_status``: the taken
    pieces' ids, and every piece's id."""
    pieces = split_many(block.serial_start, block.serial_end, taken)
    rows = [
        derived_row(block, p.start, p.end, status=taken_status if p.taken else block.status) for p in pieces
    ]
    registry = RegistryRepository(session)
    if registry.delete_if_unchanged(block) != 1:
        raise Conflict(f"block {block.block_id} changed meanwhile; nothing was stored, retry", code="6001")
    registry.insert_block_rows(rows)
    taken_ids = [row["block_id"] for row, p in zip(rows, pieces, strict=True) if p.taken]
    return taken_ids, [row["block_id"] for row in rows]


def split_blocks(
    session: Session, taken: Sequence[tuple[CreditBlock, Sequence[tuple[int, int]]]], taken_status: str
) -> list[str]:
    """:func:`split_block` for many blocks in two statements (a round of locks): each block is
    replaced by its pieces, its ``taken`` ranges getting ``taken_status``. Every piece's id. A
    block changed meanwhile refuses all of them (6001; nothing of the statements stays)."""
    if not taken:
        return []
    rows = [
        derived_row(block, p.start, p.end, status=taken_status if p.taken else block.status)
        for block, ranges in taken
        for p in split_many(block.serial_start, block.serial_end, ranges)
    ]
    table = CreditBlock.__table__  # type: ignore[attr-defined]
    names = ("block_id", "serial_start", "serial_end", "status")
    removed = delete_rows(
        session.connection(), table, [{name: getattr(block, name) for name in names} for block, _ in taken]
    )
    if removed != len(taken):
        changed = len(taken) - removed
        raise Conflict(
            f"{changed} of {len(taken)} blocks changed meanwhile; nothing was stored, retry", code="6001"
        )
    for block, _ in taken:  # as an ORM delete would: the deleted rows' objects leave the session
        known = session.identity_map.get(session.identity_key(CreditBlock, block.block_id))
        if known is not None:
            session.expunge(known)
    insert_rows(session.connection(), table, rows)
    return [row["block_id"] for row in rows]
