"""The OpenAPI document types the answers: every ``$ref`` resolves, exchange records are the
exchange schema's own JSON Schemas, and every route's success answer is a declared model
(``UNTYPED`` would list an exception; it is empty)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.app import create_app
from hub.database import Database
from hub.records import component_name, exchange_components
from schemas.catalog import catalog

# (method, path) of routes whose success answer is not typed yet
UNTYPED: set[tuple[str, str]] = set()  # every route's answer is typed now


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from hub.settings import Settings

    folder = tmp_path_factory.mktemp("openapi")
    database = Database.from_url(f"sqlite:///{folder}/hub.sqlite3")  # the document reads no table
    try:
        return create_app(Settings(data_dir=folder), database).openapi()
    finally:
        database.dispose()


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    dangling = {ref for ref in _refs(document) if ref.removeprefix("#/components/schemas/") not in components}
    assert dangling == set()


def test_every_exchange_record_is_a_component(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    for name in catalog().names():
        assert component_name(name) in components, name
    assert components["RecognitionCertificate"] == exchange_components()["RecognitionCertificate"]


def _success_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    for status, response in operation["responses"].items():
        if status.startswith("2"):
            content = response.get("content") or {}
            return next(iter(content.values()), {}).get("schema")
    return None


def _typed(schema: dict[str, Any] | None) -> bool:
    """A success answer whose schema names a model or record (or an array of them)."""
    if not schema:
        return False
    if "$ref" in schema:
        return True
    if schema.get("type") == "array":
        return _typed(schema.get("items"))
    return False


def test_success_answers_are_typed(document: dict[str, Any]) -> None:
    untyped = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not _typed(_success_schema(operation)):
                untyped.add((method, path))
    newly_typed = UNTYPED - untyped
    assert untyped - UNTYPED == set(), "routes answering an untyped body"
    assert newly_typed == set(), f"typed now: remove them from UNTYPED: {sorted(newly_typed)}"


def test_operation_ids_are_unique_and_named_by_tag_and_function(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for operations in document["paths"].values() for op in operations.values()]
    assert len(ids) == len(set(ids))
    assert "recognition-decide" in ids and "transfers-propose" in ids
