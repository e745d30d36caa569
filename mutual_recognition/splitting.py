"""Splitting a block: a partial transfer or retirement takes serials out of a block; the pieces
before and after keep their serials, and the quantities always sum to the original."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Piece:
    start: int
    end: int
    taken: bool

    @property
    def quantity(self) -> int:
        return self.end - self.start + 1


def split(block_start: int, block_end: int, start: int, end: int) -> list[Piece]:
    """The pieces of [block_start, block_end] when [start, end] (inside it) is taken, in order."""
    if not block_start <= start <= end <= block_end:
        raise ValueError(f"{start}-{end} is not inside {block_start}-{block_end}")
    pieces = []
    if block_start < start:
        pieces.append(Piece(block_start, start - 1, False))
    pieces.append(Piece(start, end, True))
    if end < block_end:
        pieces.append(Piece(end + 1, block_end, False))
    return pieces
