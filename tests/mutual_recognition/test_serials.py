"""The serial merge check, as tables."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutual_recognition.serials import SerialRange, overlaps_with, overlaps_within, span


def R(start: int, end: int, ref: str = "") -> SerialRange:
    return SerialRange(start, end, ref)


@pytest.mark.parametrize(
    ("ranges", "pairs"),
    [
        ([R(1, 10), R(11, 20)], []),
        ([R(1, 10), R(10, 20)], [(R(1, 10), R(10, 20))]),
        ([R(5, 5), R(1, 100)], [(R(1, 100), R(5, 5))]),
        ([R(1, 3), R(7, 9), R(4, 6)], []),
        ([R(1, 50), R(10, 20), R(30, 40)], [(R(1, 50), R(10, 20)), (R(1, 50), R(30, 40))]),
    ],
)
def test_overlaps_within_a_batch(ranges, pairs) -> None:
    assert overlaps_within(ranges) == pairs


@pytest.mark.parametrize(
    ("new", "existing", "pairs"),
    [
        ([R(1, 10)], [], []),
        ([R(11, 20)], [R(1, 10), R(21, 30)], []),
        ([R(10, 21)], [R(1, 10), R(21, 30)], [(R(10, 21), R(1, 10)), (R(10, 21), R(21, 30))]),
        ([R(5, 6), R(25, 26)], [R(1, 10), R(21, 30)], [(R(5, 6), R(1, 10)), (R(25, 26), R(21, 30))]),
        ([R(100, 200)], [R(1, 10), R(150, 150)], [(R(100, 200), R(150, 150))]),
    ],
)
def test_overlaps_with_registered_blocks(new, existing, pairs) -> None:
    assert overlaps_with(new, existing) == pairs


@given(
    st.lists(st.tuples(st.integers(1, 300), st.integers(0, 20)), max_size=25),
    st.tuples(st.integers(1, 300), st.integers(0, 40)),
)
def test_the_merge_agrees_with_the_naive_check(blocks, probe) -> None:
    existing: list[SerialRange] = []
    for start, length in sorted(blocks):
        candidate = R(start, start + length)
        if not any(candidate.overlaps(other) for other in existing):
            existing.append(candidate)
    new = R(probe[0], probe[0] + probe[1])
    naive = [(new, other) for other in existing if new.overlaps(other)]
    assert overlaps_with([new], sorted(existing)) == naive


def test_span() -> None:
    assert span([R(5, 9), R(1, 2), R(20, 30)]) == (1, 30)


@pytest.mark.parametrize(
    ("taken", "pieces"),
    [
        ((1, 100), [(1, 100, True)]),
        ((1, 30), [(1, 30, True), (31, 100, False)]),
        ((71, 100), [(1, 70, False), (71, 100, True)]),
        ((40, 60), [(1, 39, False), (40, 60, True), (61, 100, False)]),
    ],
)
def test_splitting_keeps_serials_and_sums(taken, pieces) -> None:
    from mutual_recognition.splitting import split

    result = split(1, 100, *taken)
    assert [(p.start, p.end, p.taken) for p in result] == pieces
    assert sum(p.quantity for p in result) == 100


def test_splitting_refuses_serials_outside_the_block() -> None:
    from mutual_recognition.splitting import split

    with pytest.raises(ValueError, match="not a disjoint part"):
        split(1, 100, 90, 110)


@pytest.mark.parametrize(
    ("taken", "pieces"),
    [
        ([(1, 10), (50, 60)], [(1, 10, True), (11, 49, False), (50, 60, True), (61, 100, False)]),
        ([(50, 60), (1, 10)], [(1, 10, True), (11, 49, False), (50, 60, True), (61, 100, False)]),
        ([(1, 100)], [(1, 100, True)]),
        ([(10, 20), (21, 30)], [(1, 9, False), (10, 20, True), (21, 30, True), (31, 100, False)]),
    ],
)
def test_splitting_at_several_parts(taken, pieces) -> None:
    from mutual_recognition.splitting import split_many

    result = split_many(1, 100, taken)
    assert [(p.start, p.end, p.taken) for p in result] == pieces
    assert sum(p.quantity for p in result) == 100


@pytest.mark.parametrize("taken", [[(1, 10), (5, 20)], [(10, 9)], [(0, 5)], [(95, 101)]])
def test_splitting_refuses_overlapping_empty_or_outside_parts(taken) -> None:
    from mutual_recognition.splitting import split_many

    with pytest.raises(ValueError, match=r"disjoint part|ends before"):
        split_many(1, 100, taken)


@pytest.mark.parametrize(
    ("root", "origin", "registry", "start", "end", "whole", "expected"),
    [
        ("JS-1", "JS", "JS", 1, 9, True, "JS-1"),
        ("JS-1", "JS", "JS", 1, 5, False, "JS-1:1-5"),
        ("JS-1", "JS", "SH", 1, 9, True, "SH:JS-1"),
        ("JS-1", "JS", "SH", 2, 3, False, "SH:JS-1:2-3"),
    ],
)
def test_piece_ids_are_flat(root, origin, registry, start, end, whole, expected) -> None:
    from mutual_recognition.splitting import piece_id

    assert piece_id(root, origin, registry, start, end, whole=whole) == expected
