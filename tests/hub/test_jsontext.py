"""hub.jsontext against the standard library: the same JSON values written and read, over
generated values that include what orjson treats differently (floats, NaN, integers past 64 bits,
non-string keys, lone surrogates, tuples, str subclasses)."""

from __future__ import annotations

import datetime
import enum
import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select, text

from hub import jsontext
from hub.database import make_engine


class Colour(enum.StrEnum):
    RED = "red"


def same(a: Any, b: Any) -> bool:
    """Equal as JSON values, NaN equal to NaN, an int never equal to a float."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.integers(),  # past 64 bits too
    st.sampled_from([2**53 + 1, 2**63, 2**64, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),  # lone surrogates included
    st.sampled_from(["\ud800", "a\udfffb", "北京", "\u2028", "\x00", Colour.RED]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(), st.integers(), st.booleans()), inner, max_size=4),
    ),
    max_leaves=20,
)


@given(values)
@settings(max_examples=600)
def test_dumps_writes_the_value_json_dumps_writes(value: Any) -> None:
    assert same(json.loads(jsontext.dumps(value)), json.loads(json.dumps(value)))


@given(values)
@settings(max_examples=600)
def test_loads_reads_what_json_loads_reads(value: Any) -> None:
    written = json.dumps(value)
    assert same(jsontext.loads(written), json.loads(written))
    assert same(jsontext.loads(written.encode("utf-8", "surrogatepass")), json.loads(written))


@dataclass(frozen=True)
class Text:
    name: str
    text: str


@pytest.mark.parametrize(
    "case",
    [
        Text("an integer past 64 bits stays exact", "[123456789012345678901234567890]"),
        Text("an integer just past 2^53", '{"q": 9007199254740993}'),
        Text("a long run of digits in a string", '"00000000000000000001"'),
        Text("NaN and infinities", "[NaN, Infinity, -Infinity]"),
        Text("a lone surrogate escape", '"\\ud800"'),
        Text("a duplicate key: the last wins", '{"a": 1, "a": 2}'),
        Text("a float", "[1.5, -0.0, 1e-7, 1E400]"),
        Text("escaped non-ASCII", '"\\u5317\\u4eac"'),
    ],
    ids=lambda case: case.name,
)
def test_loads_odd_texts(case: Text) -> None:
    assert same(jsontext.loads(case.text), json.loads(case.text))


def test_bad_json_is_refused_as_json_refuses_it() -> None:
    for bad in ("", "{", "[1,]", "tru", "'a'", b"\xff", "[1] 2"):
        with pytest.raises(json.JSONDecodeError if isinstance(bad, str) else ValueError):
            jsontext.loads(bad)
    for refused in (
        object(),
        datetime.date(2026, 12, 1),
        datetime.datetime.now(datetime.UTC),
        Text("a", "b"),
    ):
        with pytest.raises(TypeError):
            jsontext.dumps({"a": refused})


def test_uuids_and_plain_enums_are_written_where_json_refuses_them() -> None:
    """The documented leniency: orjson writes them itself (no passthrough option for either)."""

    class Kind(enum.Enum):
        BLOCK = "block"

    key = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert json.loads(jsontext.dumps({"id": key, "kind": Kind.BLOCK})) == {"id": str(key), "kind": "block"}


def test_text_holding_null_is_written_by_json() -> None:
    """A null in orjson's text may be a NaN: json.dumps writes those values."""
    for value in ({"memo": None}, [float("nan")], {"x": float("inf")}, "nullable"):
        assert jsontext.dumps(value) == json.dumps(value)
    assert jsontext.dumps({"a": [1, "北京"]}) == '{"a":[1,"北京"]}'


def test_a_json_column_round_trips_through_the_engine(database_url: str) -> None:
    """Written and read through SQLAlchemy on this backend: the same values as json gives, rows
    written by json.dumps (before this module) read the same."""
    metadata = MetaData()
    table = Table("jsontext_probe", metadata, Column("id", Integer, primary_key=True), Column("doc", JSON))
    engine = make_engine(database_url)
    documents = [
        {"transfer_id": "T-1", "quantity": 10, "memo": None, "tags": ["a", "北京"], "ok": True},
        {"big": 2**70, "ratio": 0.25, "Colour": Colour.RED},
        [1, [2, [3, {"deep": "\u2028"}]]],
    ]
    try:
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(insert(table), [{"id": i, "doc": d} for i, d in enumerate(documents)])
            old = json.dumps({"written": "before", "spaces": [1, 2]})
            if engine.dialect.name == "sqlite":
                connection.execute(text("INSERT INTO jsontext_probe (id, doc) VALUES (99, :d)"), {"d": old})
            else:
                connection.execute(
                    text("INSERT INTO jsontext_probe (id, doc) VALUES (99, CAST(:d AS json))"), {"d": old}
                )
        with engine.connect() as connection:
            read = dict(connection.execute(select(table.c.id, table.c.doc)).all())
        for i, document in enumerate(documents):
            assert same(read[i], json.loads(json.dumps(document)))
        assert read[99] == {"written": "before", "spaces": [1, 2]}
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def _nested(depth: int) -> Any:
    value: Any = {"leaf": 1.5}
    for _ in range(depth):
        value = [value]
    return value


class Grade(enum.IntEnum):
    A = 1


class Ratio(float):
    def __repr__(self) -> str:  # json.dumps writes float.__repr__, not this
        return "42"


@pytest.mark.parametrize(
    "value",
    [
        _nested(300),  # past orjson's writer depth (255): json.dumps writes it
        {1: "a", "1": "b"},  # json.dumps writes two "1" members: the last is read
        {None: 1, True: 2, 1.5: 3, Grade.A: 4},
        [Grade.A, Ratio(0.5), 1e16, -1e-7, 5e-324, 1.7976931348623157e308],
        {"bom": "\ufeff", "nul": "\x00", "pair": "\ud83d\ude00", "lone": "\udc00x"},
    ],
    ids=["300 deep", "colliding keys", "keys json turns to text", "odd numbers", "odd texts"],
)
def test_what_orjson_writes_or_reads_otherwise_keeps_json_s_value(value: Any) -> None:
    written = jsontext.dumps(value)
    assert same(json.loads(written), json.loads(json.dumps(value)))
    assert same(jsontext.loads(written), json.loads(written))
    assert same(jsontext.loads(written.encode("utf-8", "surrogatepass")), json.loads(written))


@pytest.mark.parametrize(
    "text",
    ["\ufeff[1]", " \t\n\r", "[1]\x00", "[1]\x0c", '"\x01"', "[1,2", "-", "01", "1.", ".5", "+1"],
    ids=repr,
)
def test_texts_json_refuses_are_refused(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    with pytest.raises(json.JSONDecodeError):
        jsontext.loads(text)


def test_a_memoryview_is_refused_as_json_refuses_it() -> None:
    """psycopg hands bytes (it copies a memoryview first); json.loads refuses a memoryview with
    a TypeError, and so does loads (not an AttributeError from its digit scan)."""
    with pytest.raises(TypeError):
        json.loads(memoryview(b"[1]"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        jsontext.loads(memoryview(b"[1]"))  # type: ignore[arg-type]
    assert jsontext.loads(bytearray(b"[12345678901234567890]")) == [12345678901234567890]
