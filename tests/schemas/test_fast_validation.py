"""The fast check never calls an invalid record valid, and ``validate`` reports exactly what the
full JSON Schema validator reports (schemas/fast_validation.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemas.validation as validation
from schemas import catalog
from schemas.fast_validation import FAST_TYPES, certainly_valid, compile_schema, fast_check

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def _examples(kind: str) -> list[tuple[str, Any]]:
    return [
        (name, json.loads(path.read_text("utf-8"))["instance"])
        for name in sorted(FAST_TYPES)
        for path in sorted((EXAMPLES / name / kind).glob("*.json"))
    ]


VALID = _examples("valid")
INVALID = _examples("invalid")


def _full(name: str, instance: Any) -> list[validation.Issue]:
    """``validate`` with the fast check switched off: the reference."""
    original = validation.fast_check
    validation.fast_check = lambda schemas, record: None  # type: ignore[assignment]
    try:
        return validation.validate(name, instance)
    finally:
        validation.fast_check = original


def _agrees(name: str, instance: Any) -> None:
    check = fast_check(catalog(), name)
    assert check is not None
    errors = list(catalog().validator(name).iter_errors(instance))
    if certainly_valid(check, instance):
        assert errors == [], f"the fast check passed an invalid {name}: {errors[0].message}"
    assert validation.validate(name, instance) == _full(name, instance)


def test_every_fast_type_compiles() -> None:
    for name in FAST_TYPES:
        assert fast_check(catalog(), name) is not None, name


def test_unknown_keywords_get_no_fast_check() -> None:
    formats = catalog().validator("credit-block").format_checker
    assert compile_schema({"anyOf": [{"type": "string"}]}, formats) is None
    assert compile_schema({"$ref": "#/$defs/x"}, formats) is None
    assert compile_schema({"type": "object", "patternProperties": {"^a": {}}}, formats) is None


@pytest.mark.parametrize(("name", "instance"), VALID)
def test_valid_examples_take_the_fast_path(name: str, instance: Any) -> None:
    check = fast_check(catalog(), name)
    assert check is not None and certainly_valid(check, instance)
    _agrees(name, instance)


@pytest.mark.parametrize(("name", "instance"), INVALID)
def test_invalid_examples_are_reported_as_before(name: str, instance: Any) -> None:
    _agrees(name, instance)  # some break only an invariant: schema-valid, fast path, same issues


def test_values_outside_json_are_left_to_the_full_validator() -> None:
    name, block = next((n, i) for n, i in VALID if n == "credit-block")
    check = fast_check(catalog(), name)
    assert check is not None
    for value in (10.0, True, "10"):
        changed = {**block, "quantity": value}
        assert not certainly_valid(check, changed)
        _agrees(name, changed)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.sampled_from([0, 1, 2000, 2100, 2101, 2**53 - 1, 2**53, 1.0, 2.5, -1]),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "JS",
            "js",
            "JS\n",
            "tCO2e",
            "held",
            "PV-DISTRIBUTED",
            "2025-01-01",
            "2025-13-01",
            "2026-02-10T09:30:00+08:00",
            "2026-02-10 09:30:00",
            "0.5978",
            "kgCO2/kWh",
            "a" * 129,
            "biodiversity",
            "Bio",
            "é",
            "ab",
        ]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    name, seed = draw(st.sampled_from(VALID))
    record = copy.deepcopy(seed)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(record)))
        if not path:
            continue
        *head, last = path
        parent = record
        for part in head:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add", "copy"]))
        if action == "replace":
            parent[last] = draw(VALUES)
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(VALUES)
        elif action == "copy":  # a value valid somewhere else in the record, moved here
            other = draw(st.sampled_from(_paths(seed)))
            source = seed
            for part in other:
                source = source[part]
            parent[last] = copy.deepcopy(source)
    return name, record


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_records_agree_with_the_full_validator(case: tuple[str, Any]) -> None:
    _agrees(*case)
