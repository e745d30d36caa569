"""Splitting a block: a partial transfer or retirement takes serials out of a block; the pieces
between the taken parts keep their serials, and the quantities always sum to the original.

Piece ids are flat: derived from the block's origin (root) block and the piece's serials, never
from the id of the block that was split, so they do not grow with each split."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mutual_recognition.serials import SerialRange


@dataclass(frozen=True, slots=True)
class Piece:
    start: int
    end: int
    taken: bool

    @property
    def quantity(self) -> int:
        return self.end - self.start + 1


def split_many(block_start: int, block_end: int, taken: Sequence[tuple[int, int]]) -> list[Piece]:
    """The pieces of [block_start, block_end] when the disjoint ranges ``taken`` (inside it) are
    taken, in serial order."""
    pieces: list[Piece] = []
    cursor = block_start
    for start, end in sorted(taken):
        SerialRange(start, end)  # refuses an empty range
        if not block_start <= start <= end <= block_end or start < cursor:
            raise ValueError(f"{start}-{end} is not a disjoint part of {block_start}-{block_end}")
        if cursor < start:
            pieces.append(Piece(cursor, start - 1, False))
        pieces.append(Piece(start, end, True))
        cursor = end + 1
    if cursor <= block_end:
        pieces.append(Piece(cursor, block_end, False))
    return pieces


def split(block_start: int, block_end: int, start: int, end: int) -> list[Piece]:
    """The pieces of [block_start, block_end] when [start, end] (inside it) is taken, in order."""
    return split_many(block_start, block_end, [(start, end)])


def block_base(root: str, origin: str, registry: str) -> str:
    """The id of a whole root block where it is held: ``<root>`` at its origin, else
    ``<registry>:<root>``."""
    return root if registry == origin else f"{registry}:{root}"


def piece_id(root: str, origin: str, registry: str, start: int, end: int, *, whole: bool) -> str:
    """The flat id of serials [start, end] of root block ``root`` held in ``registry``: the base
    id when they are the whole root block, ``<base>:<start>-<end>`` for a piece of it."""
    base = block_base(root, origin, registry)
    return base if whole else f"{base}:{start}-{end}"
