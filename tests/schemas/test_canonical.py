"""RFC 8785 canonical JSON: the RFC's own examples, and the fast path equal to the reference."""

from __future__ import annotations

import json
import struct

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.canonical import MAX_SAFE_INTEGER, CanonicalizationError, canonicalize, is_canonical


def test_rfc8785_section_3_2_2_example() -> None:
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonicalize(json.loads(text)) == expected


def test_rfc8785_section_3_2_3_sorting_by_utf16_code_units() -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(canonicalize(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    ("ieee", "expected"),
    [  # RFC 8785 Appendix B
        ("0000000000000000", "0"),
        ("8000000000000000", "0"),
        ("0000000000000001", "5e-324"),
        ("8000000000000001", "-5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af5", "9.999999999999997e+22"),
        ("44b52d02c7e14af6", "1e+23"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("41b3de4355555555", "333333333.3333333"),
    ],
)
def test_rfc8785_appendix_b_numbers(ieee: str, expected: str) -> None:
    number = struct.unpack(">d", bytes.fromhex(ieee))[0]
    assert canonicalize([number]) == f"[{expected}]".encode()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 2**53, -(2**53), {1: "int key"}])
def test_values_without_a_canonical_form_are_refused(bad: object) -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize([bad])


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize({"a": "\ud800"})


JSON_WITHOUT_FLOATS = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(JSON_WITHOUT_FLOATS)
def test_fast_path_yields_the_reference_bytes(value: object) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


def test_is_canonical() -> None:
    assert is_canonical(b'{"a":1,"b":[true,null]}')
    assert not is_canonical(b'{"b":1,"a":2}')
    assert not is_canonical(b'{"a": 1}')
    assert not is_canonical(b"not json")
