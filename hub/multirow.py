"""Many rows in one statement: ``insert_rows``, ``update_rows`` and ``delete_rows`` write a list
of rows to a table; ``insert_many`` the rows of several tables (one statement on PostgreSQL).

On PostgreSQL each is one statement over the rows sent as one JSON document
(``INSERT … SELECT … FROM jsonb_to_recordset(:rows)``, ``UPDATE … FROM jsonb_to_recordset(…)``):
one parse, one plan and one round trip for the lot, where an ``executemany`` runs the statement
once per row (psycopg pipelines them; the server still executes each), and where arrays of long
strings cost the driver a regular-expression escape per character class. Each column is read
back as its own type from the document (JSON columns as the nested JSON itself; bytes as
``\\x`` hex; timestamps in ISO 8601 with their offset), so what is stored is what a one-row
statement stores. A JSON column must not be given None here (it would be stored as SQL NULL, not
JSON null): the tables written so have none. Elsewhere (SQLite, in process: no round trips) an
``executemany``. The statements are built once per table and set of columns.
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
    bindparam,
    delete,
    insert,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (each naming the same columns) into ``table``."""
    if not rows:
        return
    columns = tuple(rows[0])
    if connection.dialect.name != "postgresql":
        connection.execute(_insert(table), list(rows))
        return
    connection.execute(_pg_insert(table, columns), {"rows": _document(table, columns, rows)})


def insert_many(connection: Connection, writes: Sequence[tuple[Table, Sequence[dict[str, Any]]]]) -> None:
    """``insert_rows`` for each (table, rows) of ``writes``, in that order; on PostgreSQL the lot
    is ONE statement (each table's insert but the last a data-modifying ``WITH`` of it: one round
    trip; every row is visible to the foreign-key checks, which run when the statement ends)."""
    writes = [(table, rows) for table, rows in writes if rows]
    if connection.dialect.name != "postgresql" or len(writes) < 2:
        for table, rows in writes:
            insert_rows(connection, table, rows)
        return
    shape = tuple((table, tuple(rows[0])) for table, rows in writes)
    params = {
        f"rows{i}": _document(table, columns, rows)
        for i, ((table, columns), (_, rows)) in enumerate(zip(shape, writes, strict=True))
    }
    connection.execute(_pg_insert_many(shape), params)


def update_rows(
    connection: Connection, table: Table, key: str | tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> None:
    """Set the other columns of each of ``rows`` on the row of ``table`` whose ``key`` column (or
    columns) matches (each row naming the same columns, ``key`` among them)."""
    if not rows:
        return
    columns = tuple(rows[0])
    key = (key,) if isinstance(key, str) else key
    if connection.dialect.name != "postgresql":
        connection.execute(
            _update(table, key, columns), [{f"v_{k}": v for k, v in row.items()} for row in rows]
        )
        return
    connection.execute(_pg_update(table, key, columns), {"rows": _document(table, columns, rows)})


def delete_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Delete the rows of ``table`` matching one of ``rows`` on every column each names (all
    naming the same columns); how many were deleted."""
    if not rows:
        return 0
    columns = tuple(rows[0])
    if connection.dialect.name != "postgresql":
        matching = tuple_(*(table.c[name] for name in columns)).in_([tuple(row.values()) for row in rows])
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


@functools.cache
def _converters(table: Table, columns: tuple[str, ...]) -> tuple[Callable[[Any], Any] | None, ...]:
    """How each column's value is written into the JSON document (None: as it is)."""
    found: list[Callable[[Any], Any] | None] = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, LargeBinary):
            found.append(_hex)
        elif isinstance(kind, JSON):
            found.append(None)
        else:
            found.append(_iso if issubclass(_python_type(kind), date) else None)
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


def _source(table: Table, columns: tuple[str, ...], rows: str = "rows") -> str:
    """``jsonb_to_recordset(:rows) AS v("c0" type0, …)``: the rows, each column of its type."""
    typed = ", ".join(f'"{name}" {table.c[name].type.compile(dialect=_DIALECT)}' for name in columns)
    return f"jsonb_to_recordset(CAST(:{rows} AS JSONB)) AS v({typed})"


def _pg_insert_sql(table: Table, columns: tuple[str, ...], rows: str = "rows") -> str:
    names = ", ".join(f'"{name}"' for name in columns)
    values = ", ".join(f'v."{name}"' for name in columns)
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
    assignments = ", ".join(f'"{name}" = v."{name}"' for name in columns if name not in key)
    where = " AND ".join(f'"{table.name}"."{name}" = v."{name}"' for name in key)
    sql = f'UPDATE "{table.name}" SET {assignments} FROM {_source(table, columns)} WHERE {where}'  # noqa: S608
    return text(sql)
