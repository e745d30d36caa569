"""Reading local records field by field, collecting every error in the platform's terms.

A :class:`Row` wraps one local record (a CSV row, a JSON object, an XML element flattened to a
mapping) with its label (``"row 3"`` or the local id). Each reader returns the converted value, or
None after recording a :class:`~adapters.contract.LocalError` naming the local field, so that a
parse goes on and reports every error of the payload at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

from adapters import units
from adapters.contract import LocalError
from adapters.privacy import IdentifierError, Pseudonymizer, is_pseudonym
from standards.catalogue import load_catalogue
from standards.errors import CatalogueError

CHINA = timezone(timedelta(hours=8))
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
MAX_SERIAL = 2**53 - 1
T = TypeVar("T")


class Collector:
    """The errors of one payload."""

    def __init__(self) -> None:
        self.errors: list[LocalError] = []

    def add(self, record: str, field: str, reason: str, code: str) -> None:
        self.errors.append(LocalError(record, field, reason, code))

    def __len__(self) -> int:
        return len(self.errors)


def methodology_ref(registry: str, local_code: str) -> dict[str, str]:
    """The exchange ``methodologyRef`` of ``registry``'s code; CatalogueError (5010) when unknown."""
    catalogue = load_catalogue()
    catalogue_id = catalogue.resolve(registry, local_code)
    version = next(c.version for c in catalogue.local_codes(catalogue_id, registry) if c.code == local_code)
    return {"catalogue_id": catalogue_id, "local_code": local_code, "version": version}


# strptime formats whose zero-padded text datetime.fromisoformat reads to the same value, ~10x
# faster; anything else (unpadded fields, other formats) goes to strptime.
ISO_SHAPES = {
    "%Y-%m-%d": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "%Y-%m-%d %H:%M:%S": re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"),
    "%Y-%m-%dT%H:%M:%S": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"),
}


def _parse(value: str, fmt: str) -> datetime:
    shape = ISO_SHAPES.get(fmt)
    if shape is not None and shape.match(value):
        return datetime.fromisoformat(value)
    return datetime.strptime(value, fmt)


class Row:
    """One local record being read; ``prefix`` is prepended to field names in errors."""

    def __init__(self, values: Mapping[str, Any], label: str, errors: Collector, prefix: str = "") -> None:
        self.values = values
        self.label = label
        self.errors = errors
        self.prefix = prefix
        self._start = len(errors)

    @property
    def failed(self) -> bool:
        """True when this row (or a sub-row) recorded an error."""
        return len(self.errors) > self._start

    def error(self, field: str, reason: str, code: str) -> None:
        self.errors.add(self.label, self.prefix + field, reason, code)

    def sub(self, field: str, *, required: bool = True) -> Row | None:
        """The nested mapping ``field`` as a row (errors named ``field.member``)."""
        value = self.get(field, required=required)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.error(field, "must be an object", "1042")
            return None
        return Row(value, self.label, self.errors, f"{self.prefix}{field}.")

    def get(self, field: str, *, required: bool = True) -> Any:
        value = self.values.get(field)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if required:
                self.error(field, "is missing", "1041")
            return None
        return value

    def text(
        self, field: str, *, required: bool = True, pattern: re.Pattern[str] | None = None
    ) -> str | None:
        value = self.get(field, required=required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(field, "must be text", "1042")
            return None
        if pattern is not None and not pattern.match(value):
            self.error(field, f"{value!r} is not of the form {pattern.pattern}", "1042")
            return None
        return value

    def identifier(self, field: str, *, required: bool = True) -> str | None:
        return self.text(field, required=required, pattern=IDENTIFIER)

    def _amount(self, field: str, convert: Any, required: bool) -> int | None:
        value = self.get(field, required=required)
        return None if value is None else self._convert(field, value, convert)

    def _convert(self, field: str, value: Any, convert: Any) -> int | None:
        if not isinstance(value, str | int | Decimal) or isinstance(value, bool):
            self.error(field, "must be a number", "1042")
            return None
        try:
            result: int = convert(value)
        except units.UnitError as exc:
            self.error(field, exc.reason, exc.code)
            return None
        return result

    def whole(self, field: str, *, required: bool = True, what: str = "units") -> int | None:
        """A non-negative whole number (integer, or decimal string with a zero fraction)."""
        return self._amount(field, lambda value: units.whole_number(value, what), required)

    def tonnes(self, field: str, *, required: bool = True) -> int | None:
        """Whole tonnes, at least 1."""
        found = self._amount(field, units.tonnes, required)
        if found == 0:
            self.error(field, "must be at least 1 tonne", "1042")
            return None
        return found

    def grams(self, field: str, convert: Any = units.grams, *, required: bool = True) -> int | None:
        return self._amount(field, convert, required)

    def serial(self, field: str) -> int | None:
        value = self.get(field)
        if value is None:
            return None
        if isinstance(value, str) and value.isdigit():
            value = value.lstrip("0") or "0"  # registries publish zero-padded serials
        found = self._convert(field, value, units.whole_number)
        if found is not None and not 1 <= found <= MAX_SERIAL:
            self.error(field, f"serial {found} is outside 1 .. 2^53 - 1", "1042")
            return None
        return found

    def serial_range(
        self, fields: tuple[str, str, str], start: int | None, end: int | None, quantity: int | None
    ) -> None:
        """3001 when the range named by ``fields`` (start, end, quantity) runs backwards, 3002 when
        the quantity is not its length; messages drop the leading ``/`` of XML paths."""
        if start is None or end is None or quantity is None:
            return
        start_name, end_name = (name.lstrip("/") for name in fields[:2])
        if end < start:
            self.error(fields[1], f"{end} is before {start_name} {start}", "3001")
        elif quantity != end - start + 1:
            length = end - start + 1
            self.error(fields[2], f"{quantity} is not {end_name} - {start_name} + 1 = {length}", "3002")

    def period_pair(self, fields: tuple[str, str], period: tuple[str | None, str | None]) -> None:
        """1041 for the missing half of a period of which only one end was given."""
        absent = fields[1] if period[1] is None else fields[0]
        if (period[0] is None) != (period[1] is None) and self.get(absent, required=False) is None:
            self.error(absent, "is missing", "1041")

    def year(self, field: str, *, required: bool = True) -> int | None:
        found = self.whole(field, required=required)
        if found is not None and not 2000 <= found <= 2100:
            self.error(field, f"{found} is not a year between 2000 and 2100", "1042")
            return None
        return found

    def date(
        self, field: str, formats: Iterable[str] = ("%Y-%m-%d",), *, required: bool = True
    ) -> str | None:
        """An ISO date from a local date written in one of ``formats``."""
        value = self.text(field, required=required)
        if value is None:
            return None
        for fmt in formats:
            try:
                return _parse(value, fmt).date().isoformat()
            except ValueError:
                continue
        self.error(field, f"{value!r} is not a date ({' or '.join(formats)})", "1042")
        return None

    def instant(self, field: str, formats: Iterable[str], *, required: bool = True) -> str | None:
        """An ISO date-time; local times without an offset are China time (UTC+8)."""
        value = self.text(field, required=required)
        if value is None:
            return None
        for fmt in formats:
            try:
                parsed = _parse(value, fmt)
            except ValueError:
                continue
            aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=CHINA)
            return aware.isoformat()
        self.error(field, f"{value!r} is not a date-time ({' or '.join(formats)})", "1042")
        return None

    def choice(self, field: str, options: Mapping[str, T], *, required: bool = True) -> T | None:
        value = self.get(field, required=required)
        if value is None:
            return None
        key = value if isinstance(value, str) else str(value).lower()
        if key not in options:
            known = ", ".join(options) if len(options) <= 8 else "the values this format defines"
            self.error(field, f"{value!r} is not one of {known}", "1042")
            return None
        return options[key]

    def methodology(self, field: str, registry: str) -> dict[str, str] | None:
        code = self.text(field)
        if code is None:
            return None
        try:
            return methodology_ref(registry, code)
        except CatalogueError as exc:
            self.error(field, exc.message, exc.code)
            return None

    def subject(
        self, kind: str | None, field: str, pseudonymizer: Pseudonymizer, platform: str
    ) -> str | None:
        """The pseudonym of the person in ``field`` (an identifier of ``kind``); never echoed."""
        value = self.get(field)
        if value is None or kind is None:
            return None
        if not isinstance(value, str):
            value = str(value)
        try:
            return pseudonymizer.subject(kind, value, platform=platform)
        except IdentifierError as exc:
            self.error(field, f"the value {exc}", "1042")
            return None

    def organization(self, field: str, pseudonymizer: Pseudonymizer) -> str | None:
        value = self.text(field)
        if value is None:
            return None
        if is_pseudonym(value):  # already hashed (a record rendered from the exchange)
            return value
        try:
            return pseudonymizer.organization(value)
        except IdentifierError as exc:
            self.error(field, f"the value {exc}", "1042")
            return None

    def factor_value(self, field: str, *, required: bool = True) -> str | None:
        value = self.get(field, required=required)
        if value is None:
            return None
        try:
            return units.decimal_string(value)
        except units.UnitError as exc:
            self.error(field, exc.reason, exc.code)
            return None


ELECTRICITY_BASED = frozenset({"PV-DISTRIBUTED", "EV-CHARGING"})
FACTOR_UNITS = {
    "kgCO2/kWh": "kgCO2/kWh",
    "tCO2/MWh": "tCO2/MWh",
    "kgCO2/km": "kgCO2/km",
    "kgCO2/trip": "kgCO2/trip",
}
DIVISION = re.compile(r"^[1-9][0-9]{5}$")


def division(row: Row, field: str, *, required: bool = True) -> dict[str, str] | None:
    """A project location from a GB/T 2260 code (province, city and district as far as given)."""
    code = row.text(field, required=required, pattern=DIVISION)
    if code is None:
        return None
    location = {"province": code[:2] + "0000"}
    if code[2:4] != "00":
        location["city"] = code[:4] + "00"
    if code[4:] != "00":
        location["district"] = code
    return location
