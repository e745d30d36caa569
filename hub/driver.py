"""Hot-path statements run straight on the driver's cursor.

A request of the hub runs a dozen small statements, each of which SQLAlchemy's ``Connection.execute``
wraps in an execution context, a compiled-cache lookup, parameter processing and a result object —
~20 µs a statement on this machine, more than SQLite takes to run most of them. :func:`run` compiles
a Core statement once per dialect (and, for an insert or update, per set of columns given) and then
runs it on the DBAPI cursor of the same connection, in the same transaction: the SQL is the one
SQLAlchemy would send, each parameter goes through the bind processor SQLAlchemy would apply (its
type's, as the dialect adapts it: a ``TypeDecorator``'s ``process_bind_param``, JSON serialized,
timestamps as SQLite stores them), and each column read through the result processor it would apply.
A driver error is raised as SQLAlchemy raises it (``sqlalchemy.exc.IntegrityError`` and the rest,
the driver's error as ``.orig``), so callers catch the same exceptions on either path.

What it refuses (``ValueError``, when the statement is first compiled): an ``IN`` over an expanding
parameter (its SQL depends on each call's list: use :func:`in_names` for a fixed count), and an
insert or update that leaves out a column with a computed Python-side default (a constant one is
filled in as SQLAlchemy fills it in; :func:`fits` tells beforehand). Statements built once
(module-level or cached) are the ones to run here: each is compiled once per shape and kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ClauseElement, ColumnElement, Connection, Executable, bindparam, exc
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import SelectBase

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters, in the order a positional driver takes them
    keys: tuple[str, ...]  # the name each is sent under (a named driver's escaped name)
    binds: tuple[Processor | None, ...]
    fixed: dict[str, Any]  # the values the statement holds itself (a literal in its ``values``)
    results: tuple[Processor | None, ...]
    positional: bool
    returns: bool | None  # whether it returns rows (None: SQL text, the cursor tells)

    def parameters(self, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        fixed = self.fixed
        values = [
            (params[name] if name in params or name not in fixed else fixed[name])
            if convert is None
            else convert(params[name] if name in params or name not in fixed else fixed[name])
            for name, convert in zip(self.names, self.binds, strict=True)
        ]
        if self.positional:
            return tuple(values)
        return dict(zip(self.keys, values, strict=True))

    def rows(self, fetched: Sequence[Any]) -> list[tuple[Any, ...]]:
        return [
            tuple(
                value if convert is None else convert(value)
                for value, convert in zip(row, self.results, strict=True)
            )
            for row in fetched
        ]


class Rows:
    """What a statement returned, as plain tuples, and how many rows it changed."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def all(self) -> list[tuple[Any, ...]]:
        return self._rows

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise exc.NoResultFound("no row") if not self._rows else exc.MultipleResultsFound("several rows")
        return self._rows[0][0]

    def scalars(self) -> list[Any]:
        return [row[0] for row in self._rows]


# statements are compiled once per shape and kept: more shapes than this means statements built per
# call (each kept for good), a leak refused instead
MAX_SHAPES = 20_000
_compiled: dict[tuple[int, str, tuple[str, ...] | None], _Compiled | ValueError] = {}  # or its refusal
_keep: dict[int, Executable] = {}  # the statements compiled (ids stay theirs while they are kept)
_lock = threading.Lock()


def _compile(statement: Executable, connection: Connection, keys: tuple[str, ...] | None) -> _Compiled:
    dialect = connection.dialect
    assert isinstance(statement, ClauseElement), "a Core statement"
    compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
    assert isinstance(compiled, SQLCompiler)
    expanding = sorted(name for name, bind in compiled.binds.items() if bind.expanding)
    if expanding:
        raise ValueError(f"an expanding parameter ({', '.join(expanding)}) has no fixed SQL: use in_names")
    # columns left out whose Python-side default SQLAlchemy would fill in: a constant is filled in
    # here too (as a value the statement holds); a computed one must be given
    prefetched = [(column, column.default) for column in compiled.insert_prefetch]
    prefetched += [(column, column.onupdate) for column in compiled.update_prefetch]
    computed = [column.key for column, default in prefetched if default is None or not default.is_scalar]
    if computed:
        raise ValueError(f"columns with a computed Python-side default must be given: {', '.join(computed)}")
    defaults = {column.key: default.arg for column, default in prefetched}  # type: ignore[union-attr]
    positional = compiled.positiontup is not None
    names = tuple(compiled.positiontup) if compiled.positiontup is not None else tuple(compiled.binds)
    escaped: Mapping[str, str] = compiled.escaped_bind_names or {}
    binds = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
    columns: Sequence[ColumnElement[Any]] = ()
    if isinstance(statement, SelectBase | UpdateBase):
        columns = list(statement.exported_columns)
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
    returns = (
        None
        if isinstance(statement, TextClause)
        else isinstance(statement, SelectBase) or bool(compiled.returning)
    )
    return _Compiled(
        sql=compiled.string,
        names=names,
        keys=tuple(escaped.get(name, name) for name in names),
        binds=binds,
        fixed={name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
        | defaults,
        results=results,
        positional=positional,
        returns=returns,
    )


def _shape(statement: Executable, connection: Connection, keys: tuple[str, ...] | None) -> _Compiled:
    key = (id(statement), connection.dialect.name, keys)
    found = _compiled.get(key)
    if found is None:
        if len(_compiled) >= MAX_SHAPES:
            raise RuntimeError(f"over {MAX_SHAPES} statement shapes: run statements built once, not per call")
        try:
            found = _compile(statement, connection, keys)
        except ValueError as refused:
            found = refused
        with _lock:
            _keep[id(statement)] = statement
            _compiled[key] = found
    if isinstance(found, ValueError):
        raise found
    return found


def fits(connection: Connection, statement: Executable, params: Mapping[str, Any]) -> bool:
    """Whether :func:`run` runs ``statement`` with parameters naming what ``params`` names (it
    refuses a statement with no fixed SQL; the verdict is kept as the compiled form is)."""
    try:
        _shape(statement, connection, tuple(params) if isinstance(statement, UpdateBase) else None)
    except ValueError:
        return False
    return True


def run(
    connection: Connection,
    statement: Executable,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> Rows:
    """Run ``statement`` with ``params`` (one mapping, or a list of them all naming the same keys:
    the statement run for each) on ``connection``'s driver cursor, in its transaction; the rows it
    returned. An insert or update is compiled for the keys given (they name its columns)."""
    rows: Sequence[Mapping[str, Any]] | None = params if isinstance(params, Sequence) else None
    first: Mapping[str, Any] = (rows[0] if rows else {}) if rows is not None else (params or {})  # type: ignore[assignment]
    keys = tuple(first) if isinstance(statement, UpdateBase) else None
    shape = _shape(statement, connection, keys)
    if rows is not None:
        return _send(connection, shape.sql, [shape.parameters(row) for row in rows], many=True)
    found = _send(connection, shape.sql, shape.parameters(first), many=False, returns=shape.returns)
    return Rows(shape.rows(found.all()), found.rowcount) if any(shape.results) else found


def run_sql(connection: Connection, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> Rows:
    """Run SQL written for the connection's driver (its parameter style, values as it takes
    them) on its cursor, in its transaction: for SQL built per call from a fixed set of shapes,
    which no statement object names."""
    return _send(connection, sql, params, many=False)


def _send(connection: Connection, sql: str, sent: Any, *, many: bool, returns: bool | None = None) -> Rows:
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None, "the connection is open"
    cursor = dbapi.cursor()
    try:
        if many:
            cursor.executemany(sql, sent)
            return Rows([], cursor.rowcount)
        cursor.execute(sql, sent)
        # (psycopg builds the description's columns each time it is asked: asked only of SQL text)
        fetched = (
            cursor.fetchall() if (cursor.description is not None if returns is None else returns) else []
        )
        return Rows([tuple(row) for row in fetched], cursor.rowcount)
    except connection.dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(
            sql, sent, error, connection.dialect.loaded_dbapi.Error, dialect=connection.dialect
        ) from error
    finally:
        cursor.close()


def in_names(name: str, count: int) -> list[Any]:
    """``count`` bound parameters ``name0``, ``name1``, … for an ``IN`` over a list of a fixed
    length (build one statement per length, cached; :func:`in_values` fills them)."""
    return [bindparam(f"{name}{i}") for i in range(count)]


def in_values(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """The parameters :func:`in_names` named, set to ``values``."""
    return {f"{name}{i}": value for i, value in enumerate(values)}
