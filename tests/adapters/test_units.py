"""Exact conversions: a table of local amounts, what they become, or which code refuses them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import units
from adapters.fields import ISO_SHAPES, _parse
from adapters.units import UnitError, _text, _whole, read_decimal, whole_number

CASES = [
    # (function, input, expected int or error code)
    (units.tonnes, "350.000", 350),
    (units.tonnes, "350", 350),
    (units.tonnes, 350, 350),
    (units.tonnes, Decimal("350.000"), 350),
    (units.tonnes, " 12 ", 12),
    (units.tonnes, "0", 0),
    (units.tonnes, "350.5", "3005"),
    (units.tonnes, "350.001", "3005"),
    (units.tonnes, Decimal("0.5"), "3005"),
    (units.tonnes, "-350", "3006"),
    (units.tonnes, "-0.5", "3006"),
    (units.tonnes, Decimal("-1"), "3006"),
    (units.tonnes, "1e3", "3009"),
    (units.tonnes, "1E+3", "3009"),
    (units.tonnes, Decimal("1E+3"), "3009"),
    (units.tonnes, "1,350.000", "3009"),
    (units.tonnes, "1，350", "3009"),
    (units.tonnes, "1 350", "3009"),
    (units.tonnes, "1_350", "3009"),
    (units.tonnes, "+350", "3009"),
    (units.tonnes, "0350", "3009"),
    (units.tonnes, "350.", "3009"),
    (units.tonnes, ".5", "3009"),
    (units.tonnes, "NaN", "3009"),
    (units.tonnes, "Infinity", "3009"),
    (units.tonnes, "三百", "3009"),
    (units.tonnes, True, "3009"),
    (units.tonnes, str(2**53), "3009"),
    (units.tonnes, str(2**53 - 1), 2**53 - 1),
    (units.kilograms_to_grams, "0.542", 542),
    (units.kilograms_to_grams, "5.98", 5980),
    (units.kilograms_to_grams, "0.5419", "3005"),
    (units.kilograms_to_grams, "0.0001", "3005"),
    (units.tonnes_to_grams, "0.000542", 542),
    (units.tonnes_to_grams, "1", 1_000_000),
    (units.tonnes_to_grams, "0.0000005", "3005"),
    (units.grams, "542", 542),
    (units.grams, "542.0", 542),
    (units.grams, "542.5", "3005"),
]


@pytest.mark.parametrize(
    ("convert", "value", "expected"), CASES, ids=[f"{c.__name__}({v!r})" for c, v, _ in CASES]
)
def test_conversion_table(convert, value, expected) -> None:
    if isinstance(expected, str):
        with pytest.raises(UnitError) as caught:
            convert(value)
        assert caught.value.code == expected
    else:
        result = convert(value)
        assert result == expected and type(result) is int


def test_a_float_is_never_accepted() -> None:
    with pytest.raises(UnitError) as caught:
        units.tonnes(0.1 + 0.2)  # type: ignore[arg-type]
    assert caught.value.code == "3009"


@pytest.mark.parametrize(
    ("points", "ratio", "expected"),
    [(542, 1, 542), ("300", 1, 300), (10, 25, 250), (5, None, "3010"), ("2.5", 1, "3005"), (-1, 1, "3006")],
)
def test_points_to_grams(points, ratio, expected) -> None:
    if isinstance(expected, str):
        with pytest.raises(UnitError) as caught:
            units.points_to_grams(points, ratio)
        assert caught.value.code == expected
    else:
        assert units.points_to_grams(points, ratio) == expected


@pytest.mark.parametrize(
    ("grams", "ratio", "expected"), [(542, 1, 542), (250, 25, 10), (251, 25, "3005"), (5, None, "3010")]
)
def test_grams_to_points(grams, ratio, expected) -> None:
    if isinstance(expected, str):
        with pytest.raises(UnitError) as caught:
            units.grams_to_points(grams, ratio)
        assert caught.value.code == expected
    else:
        assert units.grams_to_points(grams, ratio) == expected


def test_decimal_strings_and_formatting() -> None:
    assert units.decimal_string("0.42") == "0.42"
    assert units.format_tonnes(350, 3) == "350.000"
    assert units.format_tonnes(350) == "350"
    with pytest.raises(UnitError):
        units.decimal_string("4.2e-1")


# The fast paths (adapters.units.PLAIN_WHOLE, adapters.fields.ISO_SHAPES) must give exactly what the
# general paths give, for any text: the same number, the same date, or the same refusal.


AMOUNTISH = st.one_of(
    st.from_regex(r"\A[ ]?[-+]?[0-9]{0,18}(\.[0-9]{0,4})?[ ]?\Z"),
    st.text(alphabet="0123456789.,-e ０１", max_size=12),
    st.integers(min_value=-10, max_value=2**54),
)


def _general(value):
    try:
        return _whole(read_decimal(value), _text(value), "units")
    except UnitError as exc:
        return ("refused", exc.code)


def _fast(value):
    try:
        return whole_number(value)
    except UnitError as exc:
        return ("refused", exc.code)


@given(AMOUNTISH)
def test_whole_numbers_fast_and_general_agree(value) -> None:
    assert _fast(value) == _general(value)


def _strptime(value: str, fmt: str):
    try:
        return datetime.strptime(value, fmt)
    except ValueError:
        return None


def _fast_parse(value: str, fmt: str):
    try:
        return _parse(value, fmt)
    except ValueError:
        return None


DATEISH = st.one_of(
    st.from_regex(r"\A[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T][0-9]{1,2}:[0-9]{2}:[0-9]{2})?\Z"),
    st.text(alphabet="0123456789-: T２", max_size=20),
)


@given(DATEISH, st.sampled_from(sorted(ISO_SHAPES)))
def test_dates_fast_and_strptime_agree(value, fmt) -> None:
    assert _fast_parse(value, fmt) == _strptime(value, fmt)
