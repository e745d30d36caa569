"""Many rows in one statement: ``insert_rows``, ``update_rows`` and ``delete_rows`` write a list
of rows to a table; ``insert_many`` the rows of several tables (one statement on PostgreSQL).

On PostgreSQL each is one statement over the rows sent as one JSON document
(``INSERT … SELECT … FROM jsonb_to_recordset(:rows)``, ``UPDATE … FROM jsonb_to_recordset(…)``):
one parse, one plan and one round trip for the lot, where an ``executemany`` runs the statement
once per row (psycopg pipelines them; the server still executes each), and where arrays of long
strings cost the driver a regular-expression escape per character class. Each column is read
back as its own type from the document (JSON columns as the nested JSON itself, None as JSON
null; bytes as ``\\x`` hex; timestamps in ISO 8601 with their offset; a column of a
``TypeDecorator`` type through its ``process_bind_param`` first), so what is stored is what a
one-row statement stores. Elsewhere (SQLite, in process: no round trips) an ``executemany``. The
statements are built once per table and set of columns. Every row must name the same columns
(in any order): a row naming others is refused with ``ValueError`` on both backends, where it
would have lost a value (or, on PostgreSQL, stored NULL for one it left out); so are two rows of
an update naming the same key (each backend kept another of them).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Executable,
    LargeBinary,
    Table,
    TypeDecorator,
    bindparam,
    delete,
    insert,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql

from hub.driver import fits, run

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def _columns(rows: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The columns the rows name (the first row's order); ValueError when they do not all name
    the same ones."""
    named = rows[0].keys()
    for position, row in enumerate(rows):
        if row.keys() != named:
            differ = sorted(set(row) ^ set(named))
            raise ValueError(f"row {position} names other columns than row 0: {', '.join(differ)}")
    return tuple(named)


def _each_key_once(rows: Sequence[dict[str, Any]], key: tuple[str, ...]) -> None:
    """ValueError when two rows name the same ``key``: SQLite's ``executemany`` applies both (the
    last stays), PostgreSQL's ``UPDATE … FROM`` one of them (whichever its join meets first)."""
    seen: dict[tuple[Any, ...], int] = {}
    for position, row in enumerate(rows):
        first = seen.setdefault(tuple(row[name] for name in key), position)
        if first != position:
            raise ValueError(f"rows {first} and {position} name the same {', '.join(key)}")


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (each naming the same columns) into ``table``."""
    if not rows:
        return
    columns = _columns(rows)
    if connection.dialect.name != "postgresql":
        if fits(connection, _insert(table), rows[0]):
            run(connection, _insert(table), list(rows))
        else:  # a column left out has a computed default: SQLAlchemy computes it
            connection.execute(_insert(table), list(rows))
        return
    run(connection, _pg_insert(table, columns), {"rows": _document(table, columns, rows)})


def insert_many(connection: Connection, writes: Sequence[tuple[Table, Sequence[dict[str, Any]]]]) -> None:
    """``insert_rows`` for each (table, rows) of ``writes``, in that order; on PostgreSQL the lot
    is ONE statement (each table's insert but the last a data-modifying ``WITH`` of it: one round
    trip; every row is visible to the foreign-key checks, which run when the statement ends)."""
    writes = [(table, rows) for table, rows in writes if rows]
    if connection.dialect.name != "postgresql" or len(writes) < 2:
        for table, rows in writes:
            insert_rows(connection, table, rows)
        return
    shape = tuple((table, _columns(rows)) for table, rows in writes)
    params = {
        f"rows{i}": _document(table, columns, rows)
        for i, ((table, columns), (_, rows)) in enumerate(zip(shape, writes, strict=True))
    }
    run(connection, _pg_insert_many(shape), params)


def update_rows(
    connection: Connection, table: Table, key: str | tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> None:
    """Set the other columns of each of ``rows`` on the row of ``table`` whose ``key`` column (or
    columns) matches (each row naming the same columns, ``key`` among them, and its own key)."""
    if not rows:
        return
    columns = _columns(rows)
    key = (key,) if isinstance(key, str) else key
    _each_key_once(rows, key)
    if connection.dialect.name != "postgresql":
        statement, named = (
            _update(table, key, columns),
            [{f"v_{k}": v for k, v in row.items()} for row in rows],
        )
        if fits(connection, statement, named[0]):
            run(connection, statement, named)
        else:  # a column left out has an onupdate SQLAlchemy computes
            connection.execute(statement, named)
        return
    connection.execute(_pg_update(table, key, columns), {"rows": _document(table, columns, rows)})


def delete_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Delete the rows of ``table`` matching one of ``rows`` on every column each names (all
    naming the same columns); how many were deleted."""
    if not rows:
        return 0
    columns = _columns(rows)
    if connection.dialect.name != "postgresql":
        values = [tuple(row[name] for name in columns) for row in rows]  # by name: in any order
        matching = tuple_(*(table.c[name] for name in columns)).in_(values)
        result = connection.execute(delete(table).where(matching))
    else:
        result = connection.execute(_pg_delete(table, columns), {"rows": _document(table, columns, rows)})
    return int(result.rowcount)


@functools.cache
def _insert(table: Table) -> Executable:
    return insert(table)


@functools.cache
def _update(table: Table, key: tuple[str, ...], columns: tuple[str, ...]) -> Executable:
    return (
        update(table)
        .where(*(table.c[name] == bindparam(f"v_{name}") for name in key))
        .values({name: bindparam(f"v_{name}") for name in columns if name not in key})
    )


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "\\x" + value.hex()


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _python_type(kind: Any) -> type:
    try:
        return kind.python_type  # type: ignore[no-any-return]
    except NotImplementedError:
        return object


def _binds_itself(kind: TypeDecorator[Any]) -> bool:
    """Whether the decorated type converts what it binds (SQLModel's ``AutoString`` does not)."""
    return type(kind).process_bind_param is not TypeDecorator.process_bind_param


def _decorated(kind: TypeDecorator[Any], then: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """The value as the decorated type binds it (``process_bind_param``), then ``then``."""

    def convert(value: Any) -> Any:
        bound = kind.process_bind_param(value, _DIALECT)
        return bound if then is None else then(bound)

    return convert


@functools.cache
def _converters(table: Table, columns: tuple[str, ...]) -> tuple[Callable[[Any], Any] | None, ...]:
    """How each column's value is written into the JSON document (None: as it is)."""
    found: list[Callable[[Any], Any] | None] = []
    for name in columns:
        kind = table.c[name].type
        base = kind.impl_instance if isinstance(kind, TypeDecorator) else kind
        convert: Callable[[Any], Any] | None
        if isinstance(base, LargeBinary):
            convert = _hex
        elif isinstance(base, JSON):
            convert = None
        else:
            convert = _iso if issubclass(_python_type(base), date) else None
        if isinstance(kind, TypeDecorator) and _binds_itself(kind):
            convert = _decorated(kind, convert)
        found.append(convert)
    return tuple(found)


def _document(table: Table, columns: tuple[str, ...], rows: Sequence[dict[str, Any]]) -> str:
    converters = _converters(table, columns)
    if not any(converters):
        return json.dumps(rows if isinstance(rows, list) else list(rows))
    return json.dumps(
        [
            {
                name: convert(row[name]) if convert else row[name]
                for name, convert in zip(columns, converters, strict=True)
            }
            for row in rows
        ]
    )


def _value(table: Table, name: str) -> str:
    """The column's value in the rows: a JSON column's null (or a Python None) as JSON null, as a
    one-row statement stores it (``jsonb_to_recordset`` reads it as SQL NULL)."""
    kind = table.c[name].type
    base = kind.impl_instance if isinstance(kind, TypeDecorator) else kind
    return f"COALESCE(v.\"{name}\", 'null')" if isinstance(base, JSON) else f'v."{name}"'


def _source(table: Table, columns: tuple[str, ...], rows: str = "rows") -> str:
    """``jsonb_to_recordset(:rows) AS v("c0" type0, …)``: the rows, each column of its type."""
    typed = ", ".join(f'"{name}" {table.c[name].type.compile(dialect=_DIALECT)}' for name in columns)
    return f"jsonb_to_recordset(CAST(:{rows} AS JSONB)) AS v({typed})"


def _pg_insert_sql(table: Table, columns: tuple[str, ...], rows: str = "rows") -> str:
    names = ", ".join(f'"{name}"' for name in columns)
    values = ", ".join(_value(table, name) for name in columns)
    return f'INSERT INTO "{table.name}" ({names}) SELECT {values} FROM {_source(table, columns, rows)}'  # noqa: S608 (names from the schema)


@functools.cache
def _pg_insert(table: Table, columns: tuple[str, ...]) -> Executable:
    return text(_pg_insert_sql(table, columns))


@functools.cache
def _pg_insert_many(shape: tuple[tuple[Table, tuple[str, ...]], ...]) -> Executable:
    inserts = [_pg_insert_sql(table, columns, f"rows{i}") for i, (table, columns) in enumerate(shape)]
    ahead = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(inserts[:-1]))
    return text(f"WITH {ahead} {inserts[-1]}")


@functools.cache
def _pg_delete(table: Table, columns: tuple[str, ...]) -> Executable:
    where = " AND ".join(f'"{table.name}"."{name}" = v."{name}"' for name in columns)
    sql = f'DELETE FROM "{table.name}" USING {_source(table, columns)} WHERE {where}'  # noqa: S608
    return text(sql)


@functools.cache
def _pg_update(table: Table, key: tuple[str, ...], columns: tuple[str, ...]) -> Executable:
    assignments = ", ".join(f'"{name}" = {_value(table, name)}' for name in columns if name not in key)
    where = " AND ".join(f'"{table.name}"."{name}" = v."{name}"' for name in key)
    sql = f'UPDATE "{table.name}" SET {assignments} FROM {_source(table, columns)} WHERE {where}'  # noqa: S608
    return text(sql)
