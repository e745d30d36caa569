"""Normalizing the blocks (or parts of blocks) a request names, before any other check.

Every request that names serials — a recognition, a transfer, a retirement, a pledge — names them
as parts: a block, and optionally the serials of it. Normalized, each part lies inside its block,
the parts of one request never share a serial (a block named twice, or two overlapping parts of one
block, are refused), and the request's quantity is the number of distinct serials it names. Each
refusal points at the part (``/blocks/<i>``) and carries a 3xxx code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mutual_recognition.serials import SerialRange
from schemas.validation import Issue

UNKNOWN_BLOCK = "3020"
RANGE_MALFORMED = "3001"
OUTSIDE_BLOCK = "3025"
PARTS_OVERLAP = "3027"
QUANTITY_MISMATCH = "3002"


@dataclass(frozen=True, slots=True)
class PartRequest:
    """What a request says about one part: the block, and the serials (``None``: the whole block)."""

    block_id: str
    namespace: str
    start: int | None = None
    end: int | None = None
    quantity: int | None = None


@dataclass(frozen=True, slots=True)
class BlockExtent:
    """A registered block as far as normalization cares: its namespace and serials."""

    block_id: str
    namespace: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Part:
    """A normalized part: position in the request, block, the serials (ref = block id)."""

    position: int
    block_id: str
    namespace: str
    serials: SerialRange

    @property
    def quantity(self) -> int:
        return self.serials.quantity


@dataclass(frozen=True, slots=True)
class Normalized:
    parts: tuple[Part, ...]
    issues: tuple[Issue, ...]

    @property
    def quantity(self) -> int:
        """The number of distinct serials the request names (parts never overlap once normalized)."""
        return sum(part.quantity for part in self.parts)


def _part(
    position: int, request: PartRequest, block: BlockExtent | None, prefix: str
) -> tuple[Part | None, Issue | None]:
    here = f"{prefix}/{position}"
    if block is None or block.namespace != request.namespace:
        return None, Issue(
            f"{here}/block_id", UNKNOWN_BLOCK, f"no block {request.block_id} in {request.namespace}"
        )
    start = block.start if request.start is None else request.start
    end = block.end if request.end is None else request.end
    if end < start:
        return None, Issue(f"{here}/end", RANGE_MALFORMED, f"serials {start}-{end} end before they start")
    serials = SerialRange(start, end, block.block_id)
    if not serials.within(SerialRange(block.start, block.end, block.block_id)):
        detail = f"serials {start}-{end} are not all in {block.block_id} ({block.start}-{block.end})"
        return None, Issue(here, OUTSIDE_BLOCK, detail)
    if request.quantity is not None and request.quantity != serials.quantity:
        detail = f"quantity {request.quantity} is not {end} - {start} + 1 = {serials.quantity}"
        return None, Issue(f"{here}/quantity", QUANTITY_MISMATCH, detail)
    return Part(position, block.block_id, block.namespace, serials), None


def _overlaps(parts: Sequence[Part], prefix: str) -> list[Issue]:
    """Parts sharing a serial, each reported at the later part against the one it collides with."""
    issues: list[Issue] = []
    by_namespace: dict[str, list[Part]] = {}
    for part in parts:
        by_namespace.setdefault(part.namespace, []).append(part)
    for group in by_namespace.values():
        ordered = sorted(group, key=lambda p: (p.serials.start, p.position))
        reach: Part | None = None
        for part in ordered:
            if reach is not None and part.serials.start <= reach.serials.end:
                first, later = sorted((reach, part), key=lambda p: p.position)
                detail = (
                    f"serials {later.serials.start}-{later.serials.end} of {later.block_id} are also named"
                    f" by {prefix}/{first.position}"
                )
                issues.append(Issue(f"{prefix}/{later.position}", PARTS_OVERLAP, detail))
            if reach is None or part.serials.end > reach.serials.end:
                reach = part
    return sorted(issues, key=lambda issue: issue.pointer)


def normalize(
    requested: Sequence[PartRequest], blocks: Mapping[str, BlockExtent], *, prefix: str = "/blocks"
) -> Normalized:
    """The parts of a request, normalized against the registered ``blocks`` (by id), or the issues
    that refuse it (every bad part named)."""
    parts: list[Part] = []
    issues: list[Issue] = []
    for position, request in enumerate(requested):
        part, issue = _part(position, request, blocks.get(request.block_id), prefix)
        if part is not None:
            parts.append(part)
        if issue is not None:
            issues.append(issue)
    issues += _overlaps(parts, prefix)
    return Normalized(tuple(parts), tuple(issues))


def total_issue(stated: int | None, normalized: Normalized, pointer: str = "/quantity") -> Issue | None:
    """3003 when a request states a total other than the number of distinct serials it names."""
    if stated is None or normalized.issues or stated == normalized.quantity:
        return None
    return Issue(pointer, "3003", f"quantity {stated} is not the {normalized.quantity} serials named")
