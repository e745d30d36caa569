"""Serial ranges never overlap within a namespace: the merge check behind the registry's probe.

The hub fetches, in serial order, the existing blocks of a namespace that could touch a batch (the
predecessor of its lowest serial and every block starting inside its span) and asks these pure
functions which new range collides with which — no scan of the namespace, no luck.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class EmptyRange(ValueError):
    """A serial range that ends before it starts holds no serial: it is refused when built."""

    code = "3001"


@dataclass(frozen=True, slots=True, order=True)
class SerialRange:
    """An inclusive, non-empty range of serials; ``ref`` names what it belongs to."""

    start: int
    end: int
    ref: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise EmptyRange(f"serials {self.start}-{self.end}: the range ends before it starts")

    @property
    def quantity(self) -> int:
        return self.end - self.start + 1

    def within(self, other: SerialRange) -> bool:
        return other.start <= self.start and self.end <= other.end

    def overlaps(self, other: SerialRange) -> bool:
        return self.start <= other.end and other.start <= self.end


def overlaps_within(ranges: Iterable[SerialRange]) -> list[tuple[SerialRange, SerialRange]]:
    """Pairs of ranges of one batch that share serials (each reported against the range it
    collides with first, in serial order)."""
    ordered = sorted(ranges)
    found: list[tuple[SerialRange, SerialRange]] = []
    reach: SerialRange | None = None
    for current in ordered:
        if reach is not None and current.start <= reach.end:
            found.append((reach, current))
        if reach is None or current.end > reach.end:
            reach = current
    return found


def overlaps_with(
    new: Sequence[SerialRange], existing: Sequence[SerialRange]
) -> list[tuple[SerialRange, SerialRange]]:
    """Pairs (new, existing) that share serials; ``existing`` sorted and non-overlapping. O(n + m)."""
    found: list[tuple[SerialRange, SerialRange]] = []
    ordered = sorted(new)
    j = 0
    for current in ordered:
        while j < len(existing) and existing[j].end < current.start:
            j += 1
        k = j
        while k < len(existing) and existing[k].start <= current.end:
            found.append((current, existing[k]))
            k += 1
    return found


def span(ranges: Iterable[SerialRange]) -> tuple[int, int]:
    """The lowest start and highest end of ``ranges``."""
    starts, ends = zip(*((r.start, r.end) for r in ranges), strict=True)
    return min(starts), max(ends)
