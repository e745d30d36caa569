"""Every schema's valid and invalid examples, run as data (schemas/examples/<name>/...)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from schemas import catalog, validate

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def _cases(kind: str) -> list[pytest.param]:
    return [
        pytest.param(path, id=f"{path.parent.parent.name}/{path.stem}")
        for path in sorted(EXAMPLES.glob(f"*/{kind}/*.json"))
    ]


def _load(path: Path) -> dict:
    case = json.loads(path.read_text("utf-8"))
    assert case.get("description"), f"{path} needs a description"
    return case


@pytest.mark.parametrize("path", _cases("valid"))
def test_valid_example_is_accepted(path: Path) -> None:
    case = _load(path)
    assert validate(path.parent.parent.name, case["instance"]) == []


@pytest.mark.parametrize("path", _cases("invalid"))
def test_invalid_example_is_refused_with_the_expected_pointers_and_codes(path: Path) -> None:
    case = _load(path)
    issues = validate(path.parent.parent.name, case["instance"])
    assert {(issue.pointer, issue.code) for issue in issues} == {
        (error["pointer"], error["code"]) for error in case["errors"]
    }


@pytest.mark.parametrize("name", catalog().names())
def test_every_record_type_has_valid_and_invalid_examples(name: str) -> None:
    assert list((EXAMPLES / name / "valid").glob("*.json")), f"{name} has no valid example"
    assert list((EXAMPLES / name / "invalid").glob("*.json")), f"{name} has no invalid example"


@pytest.mark.parametrize("name", catalog().all_names())
def test_every_document_is_a_valid_2020_12_schema_with_a_versioned_id(name: str) -> None:
    document = catalog().document(name)
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == f"https://schemas.puhui-hub.org/v1/{name}.json"
    assert document.get("title") and document.get("description")


def test_unknown_schema_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        validate("no-such-record", {})
