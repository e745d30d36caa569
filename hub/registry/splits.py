"""Splitting a registered block when part of it is taken (retired, locked for a transfer): the
pieces keep their serials (ids ``<block>:<start>-<end>``; a whole block keeps its id) and the
quantities sum to the original (``mutual_recognition.splitting``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import Session, col

from hub.registry.models import CreditBlock
from mutual_recognition.splitting import split


def piece_id(block: CreditBlock, start: int, end: int) -> str:
    return (
        block.block_id
        if (start, end) == (block.serial_start, block.serial_end)
        else f"{block.block_id}:{start}-{end}"
    )


def _row(block: CreditBlock, start: int, end: int, status: str) -> dict[str, Any]:
    block_id = piece_id(block, start, end)
    record = {
        **block.record,
        "block_id": block_id,
        "serial_start": start,
        "serial_end": end,
        "quantity": end - start + 1,
        "status": status,
    }
    columns = {name: getattr(block, name) for name in CreditBlock.model_fields}
    return {
        **columns,
        "block_id": block_id,
        "serial_start": start,
        "serial_end": end,
        "quantity": end - start + 1,
        "status": status,
        "record": record,
    }


def split_block(
    session: Session, block: CreditBlock, start: int, end: int, taken_status: str
) -> tuple[str, list[str]]:
    """Replace ``block`` by its pieces, [start, end] getting ``taken_status``; the taken piece's id
    and every piece's id."""
    pieces = split(block.serial_start, block.serial_end, start, end)
    rows = [_row(block, p.start, p.end, taken_status if p.taken else block.status) for p in pieces]
    session.execute(delete(CreditBlock).where(col(CreditBlock.block_id) == block.block_id))
    session.execute(insert(CreditBlock), rows)
    return piece_id(block, start, end), [row["block_id"] for row in rows]
