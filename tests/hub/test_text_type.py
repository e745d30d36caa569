"""One text type for every request model: each string field of each request body the hub declares
is a ``hub.text.Text``, which refuses a NUL or a lone surrogate (1049) whatever the value's source;
the local JSON formats are read by the same strict reader as the hub's bodies."""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from fastapi import APIRouter, FastAPI, Query
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import AfterValidator, BaseModel, Strict, TypeAdapter, ValidationError

import hub.app
from adapters.registry import get
from hub.problems import install_problem_handlers
from hub.text import Text, checked_text
from tests.adapters.support import PSEUDONYMIZER


def _is_text(metadata: list[Any]) -> bool:
    return any(isinstance(m, AfterValidator) and m.func is checked_text for m in metadata)


def _is_integer(metadata: list[Any]) -> bool:
    return any(isinstance(m, Strict) and m.strict for m in metadata)


def _bare(annotation: Any, metadata: list[Any], where: str, seen: set[type], base: type = str) -> list[str]:
    """Where a request model holds a ``base`` (str or int) that is not the hub's own type of it
    (Text, Integer)."""
    if annotation is base:
        return [] if (_is_text if base is str else _is_integer)(metadata) else [where]
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        return _bare(inner, [*metadata, *extra], where, seen, base)
    if origin in (Union, types.UnionType):
        return [w for arg in get_args(annotation) for w in _bare(arg, [], where, seen, base)]
    if origin in (list, tuple, set, frozenset):
        return [w for arg in get_args(annotation) for w in _bare(arg, [], f"{where}[]", seen, base)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in seen:
        seen.add(annotation)
        hints = typing.get_type_hints(annotation, include_extras=True)
        found = []
        for name, field in annotation.model_fields.items():
            declared = hints.get(name, field.annotation)
            found += _bare(declared, list(field.metadata), f"{annotation.__name__}.{name}", seen, base)
        return found
    return []


def _bare_strings(annotation: Any, metadata: list[Any], where: str, seen: set[type]) -> list[str]:
    return _bare(annotation, metadata, where, seen, str)


def _request_bodies() -> list[tuple[str, Any]]:
    routers = [value for value in vars(hub.app).values() if isinstance(value, APIRouter)]
    bodies = []
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                for param in route.dependant.body_params:
                    bodies.append((f"{route.path} {param.name}", param.field_info.annotation))
    return bodies


def test_every_string_of_every_request_model_is_a_text() -> None:
    bodies = _request_bodies()
    models = [annotation for _, annotation in bodies if isinstance(annotation, type)]
    assert len(models) >= 10  # transfers, recognitions, pledges, reconciliations, platforms, ...
    seen: set[type] = set()
    bare = [w for where, annotation in bodies for w in _bare_strings(annotation, [], where, seen)]
    assert bare == []


def test_every_integer_of_every_request_model_is_an_integer() -> None:
    """A string of digits, a boolean or a float is never read as a number (Integer is strict)."""
    bare = [w for route, body in _request_bodies() for w in _bare(body, [], route, set(), int)]
    assert bare == []


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "x\udfff"])
def test_the_text_type_refuses_nul_and_lone_surrogates(value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        TypeAdapter(Text).validate_python(value)
    assert refused.value.errors()[0]["type"] == "text_character"
    assert TypeAdapter(Text).validate_python("碳普惠 \U0001f333") == "碳普惠 \U0001f333"


def test_a_refused_text_outside_json_is_a_problem_with_code_1049_naming_the_parameter() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/probe")  # a bare app: the hub itself refuses a NUL in a URL before any route
    def probe(note: Annotated[Text, Query()]) -> dict[str, str]:
        return {"note": note}

    with TestClient(app) as client:
        response = client.get("/probe?note=a%00b")
        assert client.get("/probe", params={"note": "fine"}).json() == {"note": "fine"}
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "1049"
    assert body["errors"] == [
        {"parameter": "note", "in": "query", "code": "1049", "detail": "the text holds a NUL character"}
    ]


DEEP = "[" * 40 + "]" * 40


@pytest.mark.parametrize(
    ("code", "payload", "content_type", "check"),
    [
        ("SH", f'{{"签发记录": {DEEP}}}', "application/json", "1047"),
        ("CCER", f'{{"x": {DEEP}}}', "application/json", "1047"),
        ("ZJ", f'{{"recordNo": {DEEP}}}\n', "application/x-ndjson", "1047"),
        ("SH", '{"平台编码": "SH", "平台编码": "JS"}', "application/json", "1048"),
        ("ZJ", '{"recordNo": "a", "recordNo": "b"}\n', "application/x-ndjson", "1048"),
        ("CCER", '{"x": "\\u0000"}', "application/json", "1049"),
        ("SH", '{"x": "\\ud800"}', "application/json", "1049"),
    ],
    ids=["sh-deep", "ccer-deep", "zj-deep", "sh-duplicate", "zj-duplicate", "ccer-nul", "sh-surrogate"],
)
def test_local_json_formats_are_read_strictly_in_local_terms(
    code: str, payload: str, content_type: str, check: str
) -> None:
    parsed = get(code).parse(payload.encode(), content_type=content_type, pseudonymizer=PSEUDONYMIZER)
    assert not parsed.ok
    assert [error.code for error in parsed.errors] == [check]
    assert parsed.errors[0].field.startswith("(JSON /")
