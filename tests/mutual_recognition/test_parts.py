"""Normalizing a request's parts, as named rows: each bad part named with its pointer and code."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutual_recognition.parts import BlockExtent, PartRequest, normalize, total_issue
from mutual_recognition.serials import EmptyRange, SerialRange

BLOCKS = {
    "A": BlockExtent("A", "JS", 1, 100),
    "B": BlockExtent("B", "JS", 101, 150),
    "C": BlockExtent("C", "SH", 1, 10),
}


def P(block: str, start: int | None = None, end: int | None = None, ns: str = "JS") -> PartRequest:
    return PartRequest(block, ns, start, end)


@dataclass(frozen=True)
class Case:
    name: str
    parts: list[PartRequest]
    quantity: int = 0
    issues: list[tuple[str, str]] = field(default_factory=list)


CASES = [
    Case("whole block", [P("A")], quantity=100),
    Case("a part", [P("A", 10, 19)], quantity=10),
    Case("one serial", [P("A", 5, 5)], quantity=1),
    Case("disjoint parts of one block", [P("A", 1, 10), P("A", 50, 59)], quantity=20),
    Case("two blocks", [P("A"), P("B")], quantity=150),
    Case(
        "same serial namespace, other registry's numbers", [P("A", 1, 10), P("C", 1, 10, "SH")], quantity=20
    ),
    Case("reversed", [P("A", 10, 9)], issues=[("/blocks/0/end", "3001")]),
    Case("beyond the block", [P("A", 90, 101)], issues=[("/blocks/0", "3025")]),
    Case("before the block", [P("B", 100, 110)], issues=[("/blocks/0", "3025")]),
    Case("start only, past the end", [P("B", 151)], issues=[("/blocks/0/end", "3001")]),
    Case("unknown block", [P("Z")], issues=[("/blocks/0/block_id", "3020")]),
    Case("wrong namespace", [P("A", ns="SH")], issues=[("/blocks/0/block_id", "3020")]),
    Case("a block named twice", [P("A"), P("A")], issues=[("/blocks/1", "3027")]),
    Case("overlapping parts", [P("A", 1, 10), P("A", 10, 20)], issues=[("/blocks/1", "3027")]),
    Case("a part inside another", [P("A", 5, 6), P("A", 1, 10)], issues=[("/blocks/1", "3027")]),
    Case(
        "every bad part named",
        [P("A", 9, 1), P("Z"), P("B"), P("B", 120, 121)],
        issues=[("/blocks/0/end", "3001"), ("/blocks/1/block_id", "3020"), ("/blocks/3", "3027")],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_normalize(case: Case) -> None:
    normalized = normalize(case.parts, BLOCKS)
    assert sorted((i.pointer, i.code) for i in normalized.issues) == sorted(case.issues)
    if not case.issues:
        assert normalized.quantity == case.quantity


def test_a_stated_total_must_be_the_distinct_serials() -> None:
    normalized = normalize([P("A", 1, 10)], BLOCKS)
    assert total_issue(10, normalized) is None
    assert total_issue(11, normalized) is not None
    assert total_issue(11, normalized).code == "3003"  # type: ignore[union-attr]


def test_an_empty_serial_range_cannot_be_built() -> None:
    with pytest.raises(EmptyRange):
        SerialRange(10, 9)


@given(st.lists(st.tuples(st.integers(0, 120), st.integers(0, 120)), min_size=1, max_size=6))
def test_accepted_parts_never_share_a_serial_and_count_each_once(bounds: list[tuple[int, int]]) -> None:
    normalized = normalize([P("A", a, b) for a, b in bounds], BLOCKS)
    if normalized.issues:
        return
    serials = [n for part in normalized.parts for n in range(part.serials.start, part.serials.end + 1)]
    assert len(serials) == len(set(serials)) == normalized.quantity
    assert all(1 <= n <= 100 for n in serials)
