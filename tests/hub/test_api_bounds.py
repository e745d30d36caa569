"""Every integer the API accepts has an upper bound in its schema, so an oversized number is a 4xx
naming the field, never a 500 from the database driver (found by fuzzing with schemathesis)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from hub.app import create_app
from hub.settings import Settings


def _integers(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "integer":
        yield where, schema
    for name, member in schema.get("properties", {}).items():
        yield from _integers(member, f"{where}/{name}")
    for keyword in ("anyOf", "oneOf", "allOf"):
        for member in schema.get(keyword, []):
            yield from _integers(member, where)
    if "items" in schema:
        yield from _integers(schema["items"], f"{where}/[]")


def test_every_integer_in_the_api_has_a_maximum(tmp_path: Path) -> None:
    spec = create_app(Settings(data_dir=tmp_path, public_url="http://127.0.0.1:8000")).openapi()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                found += _integers(parameter["schema"], f"{method.upper()} {path} {parameter['name']}")
    for name, schema in spec["components"]["schemas"].items():
        if name != "ValidationError":  # FastAPI's own error shape (the location of a failure)
            found += _integers(schema, name)
    assert len(found) > 20
    unbounded = [where for where, schema in found if "maximum" not in schema]
    assert not unbounded, unbounded


def test_an_oversized_cursor_is_refused_naming_it(client: TestClient, federation) -> None:
    answer = client.get("/v1/log/tree-heads", params={"after": 9024704453148232646656})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert [(e["parameter"], e["code"]) for e in answer.json()["errors"]] == [("after", "1004")]


def test_a_nul_in_the_url_is_refused_before_any_query(client: TestClient, federation) -> None:
    for path in ["/v1/recognitions/%00", "/console/recognitions/a%00b", "/v1/log/entries?start=%00"]:
        answer = client.get(path)
        assert answer.status_code == 400, path
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "1004"
