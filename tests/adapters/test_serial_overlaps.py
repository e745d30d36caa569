"""The in-batch overlap check (3008) answers the same with its one-pass shortcut for blocks already
in order as the sort-and-sweep it shortcuts, on generated batches (in order or not, overlapping or
not, backwards ranges, several namespaces)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.fields import Collector
from adapters.records import check_serial_overlaps


def sweep(blocks: list[tuple[str, dict[str, Any]]], field: str, errors: Collector) -> None:
    """The check as it was before the shortcut: sort by (namespace, first serial), then sweep."""
    ordered = sorted(blocks, key=lambda item: (item[1]["serial_namespace"], item[1]["serial_start"]))
    reach: tuple[str, int, str] | None = None
    for label, block in ordered:
        namespace, start, end = block["serial_namespace"], block["serial_start"], block["serial_end"]
        if reach is not None and reach[0] == namespace and start <= reach[1]:
            errors.add(label, field, f"serials {start}-{end} overlap those of {reach[2]}", "3008")
        if reach is None or reach[0] != namespace or end > reach[1]:
            reach = (namespace, end, label)


BLOCK = st.tuples(st.sampled_from(["JS", "SH", "CCER"]), st.integers(1, 60), st.integers(-3, 12))


@st.composite
def batches(draw: st.DrawFn) -> list[tuple[str, dict[str, Any]]]:
    spans = draw(st.lists(BLOCK, max_size=12))
    if draw(st.booleans()):  # most exports come in order, apart
        spans.sort()
        if draw(st.booleans()):
            spans = [
                (namespace, start * 100, start * 100 + abs(length)) for namespace, start, length in spans
            ]
    return [
        (f"row {n + 2}", {"serial_namespace": namespace, "serial_start": start, "serial_end": start + length})
        for n, (namespace, start, length) in enumerate(spans)
    ]


@settings(max_examples=2000, deadline=None)
@given(batches())
def test_the_shortcut_answers_what_the_sort_answers(blocks: list[tuple[str, dict[str, Any]]]) -> None:
    found, expected = Collector(), Collector()
    check_serial_overlaps(iter(blocks), "起始序列号", found)
    sweep(blocks, "起始序列号", expected)
    assert found.errors == expected.errors


def test_blocks_in_order_that_overlap_are_refused() -> None:
    blocks = [
        ("row 2", {"serial_namespace": "JS", "serial_start": 1, "serial_end": 10}),
        ("row 3", {"serial_namespace": "JS", "serial_start": 10, "serial_end": 20}),
    ]
    errors = Collector()
    check_serial_overlaps(blocks, "起始序列号", errors)
    assert [error.code for error in errors.errors] == ["3008"]
