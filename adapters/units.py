"""Exact unit conversions: local decimal strings → integer tonnes or grams, never through a float.

Platforms write amounts their own way ("350.000" tonnes, "0.542" kg, 542 points). The exchange
carries whole tonnes (credit blocks) and whole grams (personal reductions). A value converts only
when it converts exactly; anything else is an error with its check code, never a rounding:

=====================================  =======  ==========================
input                                  code     why
=====================================  =======  ==========================
``"-3"``                               3006     negative
``"350.5"`` as tonnes                  3005     not a whole number of tonnes
``"1e3"``, ``"1,000"``, ``"+5"``       3009     not a plain decimal string
``""`` / missing                       1041     (reported by the field reader)
5 points on a non-convertible platform 3010     points have no gram value
=====================================  =======  ==========================

JSON amounts are read with ``parse_float=decimal.Decimal`` so that a JSON number never becomes a
float either; a :class:`~decimal.Decimal` is judged by its exact text.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

PLAIN_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]+)?$")
# The common case of whole_number: a plain decimal whose fraction, if written, is all zeros.
PLAIN_WHOLE = re.compile(r"^(0|[1-9][0-9]*)(?:\.0+)?$")
MAX_SAFE_INTEGER = 2**53 - 1
GRAMS_PER_KILOGRAM = 1000
GRAMS_PER_TONNE = 1_000_000


class UnitError(ValueError):
    """A local amount that cannot become an exact integer; ``code`` is its check code."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


AmountText = str | int | Decimal


def _text(value: AmountText) -> str:
    if isinstance(value, bool):
        raise UnitError("3009", "is a boolean, not an amount")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    raise UnitError("3009", f"is a {type(value).__name__}, not an amount")


def read_decimal(value: AmountText) -> Fraction:
    """The exact value of a plain, non-negative decimal string (or integer, or JSON Decimal)."""
    text = _text(value)
    if text.startswith("-"):
        raise UnitError("3006", f"{text} is negative")
    if "e" in text.lower():
        raise UnitError("3009", f"{text} uses exponent notation; write the plain decimal")
    if any(sep in text for sep in (",", "，", "_", "'", " ", "\u00a0")):
        raise UnitError("3009", f"{text} contains a thousands separator")
    if not PLAIN_DECIMAL.match(text):
        raise UnitError("3009", f"{text!r} is not a plain decimal number")
    return Fraction(text)


def _whole(exact: Fraction, text: str, what: str) -> int:
    if exact.denominator != 1:
        raise UnitError("3005", f"{text} is not a whole number of {what}; amounts are never rounded")
    if exact.numerator > MAX_SAFE_INTEGER:
        raise UnitError("3009", f"{text} is above 2^53 - 1")
    return exact.numerator


def whole_number(value: AmountText, what: str = "units") -> int:
    """A non-negative whole number (``"350"``, ``"350.000"``, ``350``); 3005 if it has a fraction."""
    if type(value) is str:  # fast path, the same answer: digits and an all-zero fraction
        found = PLAIN_WHOLE.match(value.strip())
        if found is not None and int(found.group(1)) <= MAX_SAFE_INTEGER:
            return int(found.group(1))
    elif type(value) is int and 0 <= value <= MAX_SAFE_INTEGER:
        return value
    return _whole(read_decimal(value), _text(value), what)


def grams(value: AmountText) -> int:
    """Whole grams from a decimal string of grams (``"542"``; ``"542.5"`` → 3005)."""
    return whole_number(value, "grams")


def tonnes(value: AmountText) -> int:
    """Whole tonnes from a decimal string of tonnes (``"350.000"`` → 350; ``"350.5"`` → 3005)."""
    return whole_number(value, "tonnes")


def kilograms_to_grams(value: AmountText) -> int:
    """Whole grams from a decimal string of kilograms (``"0.542"`` → 542; ``"0.5425"`` → 3005)."""
    return _whole(read_decimal(value) * GRAMS_PER_KILOGRAM, _text(value) + " kg", "grams")


def tonnes_to_grams(value: AmountText) -> int:
    """Whole grams from a decimal string of tonnes."""
    return _whole(read_decimal(value) * GRAMS_PER_TONNE, _text(value) + " t", "grams")


def points_to_grams(points: AmountText, grams_per_point: int | None) -> int:
    """Grams for a number of whole points at the platform's ratio; 3010 when points have none."""
    count = whole_number(points, "points")
    if grams_per_point is None:
        raise UnitError("3010", "this platform's points have no gram value")
    return count * grams_per_point


def grams_to_points(grams: int, grams_per_point: int | None) -> int:
    """The inverse of :func:`points_to_grams`; 3005 when the grams are not whole points."""
    if grams_per_point is None:
        raise UnitError("3010", "this platform's points have no gram value")
    points, remainder = divmod(grams, grams_per_point)
    if remainder:
        raise UnitError("3005", f"{grams} g is not a whole number of points at {grams_per_point} g/point")
    return points


def decimal_string(value: AmountText) -> str:
    """A factor (e.g. ``"0.42"``) as the exchange's decimal string, unchanged but validated."""
    read_decimal(value)
    return _text(value)


def format_tonnes(quantity: int, places: int = 0) -> str:
    """Whole tonnes written with ``places`` decimals (``350`` → ``"350.000"``)."""
    return f"{quantity}.{'0' * places}" if places else str(quantity)
