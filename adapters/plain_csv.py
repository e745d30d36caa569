"""``csv.DictReader``'s answers for plain CSV text, without the csv state machine.

Text with no quote character, no NUL, no carriage return outside a CRLF line ending and no line
longer than the csv field size limit is read by the ``csv`` module (default dialect) as each line's
text split at every comma — nothing else in it means anything to the reader. For such text
:meth:`PlainDictReader.of` gives a reader that answers exactly what ``csv.DictReader`` answers:
the same ``fieldnames``, the same rows (blank lines skipped, short rows filled with None, the
surplus cells of a long row under the key None) and the same ``line_num`` after each row (the line
of the row's first line read, blank lines included, as DictReader keeps it). Any other text gets
None and goes to ``csv.DictReader``. ``tests/adapters/test_plain_csv.py`` compares the two over
generated texts.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from typing import Any


class PlainDictReader:
    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._next = 0
        self._fieldnames: list[str] | None = None
        self.line_num = 0

    @classmethod
    def of(cls, text: str) -> PlainDictReader | None:
        """A reader of ``text`` when it is plain (see the module docstring), else None."""
        if '"' in text or "\0" in text:
            return None
        if "\r" in text:
            if text.count("\r") != text.count("\r\n"):
                return None
            text = text.replace("\r\n", "\n")
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()  # the text ends with a line ending (or is empty)
        if lines and max(map(len, lines)) > csv.field_size_limit():
            return None
        return cls(lines)

    def _row(self) -> list[str]:
        if self._next >= len(self._lines):
            raise StopIteration
        line = self._lines[self._next]
        self._next += 1
        return line.split(",") if line else []

    @property
    def fieldnames(self) -> list[str] | None:
        if self._fieldnames is None:
            with contextlib.suppress(StopIteration):  # no line: no header
                self._fieldnames = self._row()
        self.line_num = self._next
        return self._fieldnames

    def __iter__(self) -> Iterator[dict[Any, Any]]:
        return self

    def __next__(self) -> dict[Any, Any]:
        if self.line_num == 0:
            self.fieldnames  # noqa: B018 - reads the header, as DictReader does
        row = self._row()
        self.line_num = self._next
        while row == []:
            row = self._row()
        self.line_num = self._next  # DictReader reads its fieldnames property again here
        return self.as_dict(row)

    def cells(self) -> Iterator[list[str]]:
        """The cells of each row ``next`` would read (blank lines skipped), ``line_num`` kept as
        ``next`` keeps it: ``as_dict`` of each is the row ``next`` answers."""
        if self.line_num == 0:
            self.fieldnames  # noqa: B018
        lines, count = self._lines, len(self._lines)
        seeking = True  # the first line each ``next`` reads sets line_num, a row sets it again
        while self._next < count:
            line = lines[self._next]
            self._next += 1
            if seeking:
                self.line_num, seeking = self._next, False
            if line:
                self.line_num = self._next
                yield line.split(",")
                seeking = True

    def as_dict(self, row: list[str]) -> dict[Any, Any]:
        """A row's cells as ``csv.DictReader`` keys them (short rows filled with None, the surplus
        of a long row under None)."""
        fieldnames = self._fieldnames or []
        found: dict[Any, Any] = dict(zip(fieldnames, row, strict=False))
        if len(fieldnames) < len(row):
            found[None] = row[len(fieldnames) :]
        elif len(fieldnames) > len(row):
            for key in fieldnames[len(row) :]:
                found[key] = None
        return found
