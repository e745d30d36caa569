"""The plain CSV reader answers what ``csv.DictReader`` answers, row by row and line by line."""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.plain_csv import PlainDictReader

TEXTS = st.lists(
    st.sampled_from(["a", "b", "中", ",", " ", "\n", "\r\n", "\r", '"', "\0", ""]), max_size=40
).map("".join)


def _read(reader: Any) -> tuple[Any, list[tuple[int, Any]], int]:
    header = reader.fieldnames
    rows = []
    if header:
        for values in reader:
            rows.append((reader.line_num, values))
    return header, rows, reader.line_num


@settings(max_examples=1000, deadline=None)
@given(TEXTS)
def test_plain_text_is_read_as_dictreader_reads_it(text: str) -> None:
    plain = PlainDictReader.of(text)
    if plain is None:
        assert any(mark in text for mark in ('"', "\0")) or text.count("\r") != text.count("\r\n")
        return
    assert _read(plain) == _read(csv.DictReader(io.StringIO(text, newline="")))


def test_blank_lines_are_labelled_as_dictreader_labels_them() -> None:
    text = "a,b\n\n\n1,2\n3\n4,5,6\n"
    plain = PlainDictReader.of(text)
    assert plain is not None
    assert _read(plain) == _read(csv.DictReader(io.StringIO(text, newline="")))
    assert _read(PlainDictReader.of(text))[1] == [  # type: ignore[arg-type]
        (4, {"a": "1", "b": "2"}),
        (5, {"a": "3", "b": None}),
        (6, {"a": "4", "b": "5", None: ["6"]}),
    ]


def test_text_the_csv_module_reads_otherwise_is_not_plain() -> None:
    for text in ('a,"b,c"\n', "a\rb\n", "a\0b\n", "a," + "x" * (csv.field_size_limit() + 1) + "\n"):
        assert PlainDictReader.of(text) is None, repr(text[:20])


def _read_cells(reader: PlainDictReader) -> tuple[Any, list[tuple[int, Any]], int]:
    header = reader.fieldnames
    rows = []
    if header:
        for cells in reader.cells():
            rows.append((reader.line_num, reader.as_dict(cells)))
    return header, rows, reader.line_num


@settings(max_examples=1000, deadline=None)
@given(TEXTS)
def test_cells_are_the_rows_dictreader_reads(text: str) -> None:
    """``cells`` (the JS block reader's path) and ``as_dict`` give DictReader's rows and labels."""
    plain = PlainDictReader.of(text)
    if plain is not None:
        assert _read_cells(plain) == _read(csv.DictReader(io.StringIO(text, newline="")))
