"""The fast reader of bulk block layouts: rows that differ only in their block id, serials and
quantity share every other converted field, so those are converted once per payload.

A layout's exact reader (``_block(row)`` of a region module) turns one local row into an exchange
credit block, or records why not. In a bulk export almost every row repeats the same project,
methodology, vintage, monitoring period, holder, status and emission factor; only the id, the two
serials and the quantity change. :class:`BlockTemplates` keys each row by the raw values of every
field the exact reader reads *except* those four (its *template key*):

- the first row of a key goes through the exact reader; when it yields a block without an error,
  that block becomes the key's template, and the template is validated against the exchange schema
  once (``certified`` when valid);
- a later row of the same key takes the template and its own four values, when each is in the plain
  form the exact reader accepts (``"JS-B-1"``, ``"000123"``, ``"10.000"``: see :meth:`_serial`,
  :meth:`_quantity`) and the range is consistent (end ≥ start, quantity = end − start + 1);
- anything else — a field in another form, a missing or malformed value, a range that does not
  add up — goes to the exact reader for that row, which records the same errors as always.

Why the template's block is the row's block: the exact readers build a block from the template
fields and the four values independently (``adapters.records.credit_block``), the four keep their
positions in the record, and the template's nested members are copied, never shared. Why
``certified`` records need no schema pass: the credit-block schema is a product of per-member
constraints, the electricity ``if``/``then`` on the methodology (a template member), and the
invariants on serial ranges (the range check here) and periods (template members); the four
values are checked here against exactly their schema's bounds (identifier pattern and length,
1 ≤ serial ≤ 2^53 − 1, quantity ≥ 1). ``tests/adapters/test_fast_readers.py`` holds the fast and
the exact readers to the same records and the same errors over generated payloads, odd and
malformed rows included.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from adapters.fields import IDENTIFIER, MAX_SERIAL, Collector, Row
from schemas.validation import validate

Exact = Callable[[Row], "dict[str, Any] | None"]
PLAIN_KEY = frozenset({str, type(None)})
MAX_DIGITS = 16  # 2^53 - 1 has 16 digits: longer digit strings go to the exact reader


def _freeze(value: Any) -> Any:
    """A hashable key equal only for inputs the exact reader cannot tell apart (type and exact
    text of every scalar; members in order)."""
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is dict or isinstance(value, Mapping):
        return ("\0map", tuple((_freeze(k), _freeze(v)) for k, v in value.items()))
    if kind is list or kind is tuple:
        return ("\0seq", tuple(_freeze(item) for item in value))
    if kind is int or kind is bool or kind is Decimal:
        return ("\0" + kind.__name__, repr(value))
    raise Unkeyable(kind.__name__)


class Unkeyable(Exception):  # a signal, not an error
    """A value of a type the key cannot tell apart exactly: the row goes to the exact reader."""


class Template:
    __slots__ = ("block", "certified", "nested")

    def __init__(self, block: dict[str, Any], certified: bool) -> None:
        self.block = block
        self.certified = certified
        self.nested = tuple(key for key, value in block.items() if type(value) in (dict, list))


class BlockTemplates:
    """Per payload: rows of one layout read through templates (see the module docstring).

    ``fields`` are the block id, first serial, last serial and quantity fields of the layout;
    ``template_fields`` every other field the exact reader reads (a field it reads that is missing
    here would make the fast reader wrong: the property test is what keeps this list complete)."""

    def __init__(
        self,
        exact: Exact,
        fields: tuple[str, str, str, str],
        template_fields: Sequence[str],
        *,
        enabled: bool = True,
    ) -> None:
        self.exact = exact
        self.enabled = enabled
        self.id_field, self.start_field, self.end_field, self.quantity_field = fields
        self.template_fields = tuple(template_fields)
        if len(self.template_fields) < 2:
            raise ValueError("a template is keyed by at least two fields")
        self._key = operator.itemgetter(*self.template_fields)
        self.templates: dict[tuple[Any, ...], Template] = {}
        self.quantities: dict[Any, int | None] = {}
        self.certified: set[int] = set()  # id() of every block that needs no schema pass

    def read(self, values: Mapping[str, Any], label: str, errors: Collector) -> dict[str, Any] | None:
        """The block of the local record ``values`` named ``label`` (None after recording its
        errors in ``errors``), as the exact reader reads ``Row(values, label, errors)``."""
        if not self.enabled:
            return self.exact(Row(values, label, errors))
        get = values.get
        try:
            try:
                key = self._key(values)
            except (KeyError, TypeError):  # a field absent, or a value that is not hashable
                key = self._frozen_key(values)
            else:
                if not PLAIN_KEY.issuperset(map(type, key)):
                    key = self._frozen_key(values)
        except Unkeyable:
            return self.exact(Row(values, label, errors))
        template = self.templates.get(key)
        if template is None:
            return self._first(Row(values, label, errors), key)
        block = self._from_template(
            template, get(self.id_field), get(self.start_field), get(self.end_field), get(self.quantity_field)
        )
        return self.exact(Row(values, label, errors)) if block is None else block

    def cells_reader(self, header: Sequence[str]) -> Callable[[list[str], str, Collector], Any] | None:
        """A reader of rows given as the cells of a plain CSV line under ``header`` (as many cells
        as the header has columns): what :meth:`read` answers for ``dict(zip(header, cells))``,
        the template key and the four values taken by position. None when the header lacks a field
        of the layout or names one twice (such rows go through :meth:`read`)."""
        if not self.enabled or len(set(header)) != len(header):
            return None
        position = {name: i for i, name in enumerate(header)}
        wanted = (*self.template_fields, self.id_field, self.start_field, self.end_field, self.quantity_field)
        if any(name not in position for name in wanted):
            return None
        key_of = operator.itemgetter(*(position[name] for name in self.template_fields))
        unique = operator.itemgetter(*(position[name] for name in wanted[-4:]))
        names = tuple(header)
        templates, from_template = self.templates, self._from_template

        def read_cells(cells: list[str], label: str, errors: Collector) -> dict[str, Any] | None:
            # every cell is a str: the key is a plain one, equal to the key read() makes
            template = templates.get(key_of(cells))
            block = None if template is None else from_template(template, *unique(cells))
            return self.read(dict(zip(names, cells, strict=True)), label, errors) if block is None else block

        return read_cells

    def _from_template(
        self, template: Template, block_id: Any, first: Any, last: Any, amount: Any
    ) -> dict[str, Any] | None:
        """The template's block with the row's own four values, or None when one of them is not
        in the plain form (the row then goes to the exact reader)."""
        if type(block_id) is not str:
            return None
        block_id = block_id.strip()
        start, end = self._serial(first), self._serial(last)
        quantity = self._quantity(amount)
        if (
            start is None
            or end is None
            or quantity is None
            or end < start
            or quantity != end - start + 1
            or not IDENTIFIER.match(block_id)
        ):
            return None
        block = template.block.copy()
        for name in template.nested:
            block[name] = block[name].copy()
        block["block_id"] = block_id
        block["serial_start"] = start
        block["serial_end"] = end
        block["quantity"] = quantity
        if template.certified:
            self.certified.add(id(block))
        return block

    def _frozen_key(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        get = values.get
        return tuple(
            value if (value := get(name)) is None or type(value) is str else _freeze(value)
            for name in self.template_fields
        )

    def _first(self, row: Row, key: tuple[Any, ...]) -> dict[str, Any] | None:
        block = self.exact(row)
        if block is not None:
            certified = not validate("credit-block", block)
            self.templates[key] = Template(block, certified)
            # the template is this row's own block: later rows copy it, so it is copied here too
            block = block.copy()
            for name in self.templates[key].nested:
                block[name] = block[name].copy()
            if certified:
                self.certified.add(id(block))
        return block

    @staticmethod
    def _serial(value: Any) -> int | None:
        """A serial in the plain form: ASCII digits (zero-padded or not) in 1 .. 2^53 - 1."""
        if type(value) is str:
            value = value.strip().lstrip("0")
            if value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS:
                found = int(value)
                return found if found <= MAX_SERIAL else None
            return None
        if type(value) is int and 1 <= value <= MAX_SERIAL:
            return value
        return None

    def _quantity(self, value: Any) -> int | None:
        """Whole tonnes, at least 1, exactly as ``Row.tonnes`` reads them (memoized by text)."""
        kind = type(value)
        if kind is not str and kind is not int:
            return None
        key = value if kind is str else ("\0int", value)
        if key in self.quantities:
            return self.quantities[key]
        scratch = Collector()
        found = Row({"quantity": value}, "", scratch).tonnes("quantity")
        self.quantities[key] = None if scratch.errors else found
        return self.quantities[key]
