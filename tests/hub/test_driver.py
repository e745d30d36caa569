"""``hub.driver.run`` sends what ``Connection.execute`` sends, on both backends: the same stored
values (JSON, timestamps, bytes, None), the same values read back, the same exceptions, in the
caller's transaction; and it refuses the statements whose SQL is not fixed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Column, DateTime, MetaData, String, Table, bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import SQLModel

from hub.database import Database
from hub.driver import in_names, in_values, run, run_sql
from tests.hub.test_multirow import NOTICE, _stored

TABLE = SQLModel.metadata.tables["origin_notice"]
INSERT = insert(TABLE)
READ = (
    select(TABLE.c.subject, TABLE.c.body, TABLE.c.next_attempt_at, TABLE.c.answered_at, TABLE.c.attempts)
    .where(TABLE.c.kind == bindparam("kind"))
    .order_by(TABLE.c.subject)
)
ACKNOWLEDGE = (
    update(TABLE)
    .where(TABLE.c.kind == bindparam("k"), TABLE.c.subject == bindparam("s"))
    .values(status="acknowledged", attempts=TABLE.c.attempts + 1)
    .returning(TABLE.c.attempts, TABLE.c.next_attempt_at)
)
BY_SUBJECTS = {n: select(TABLE.c.subject).where(TABLE.c.subject.in_(in_names("s", n))) for n in (1, 3)}


def test_what_it_stores_and_reads_is_what_connection_execute_stores_and_reads(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(INSERT, NOTICE | {"subject": "core"})
        run(connection, INSERT, NOTICE | {"subject": "driver"})
        run(connection, INSERT, [NOTICE | {"subject": "many-1"}, NOTICE | {"subject": "many-2"}])
    core, driver, *many = _stored(database, "origin_notice", "kind = :kind", {"kind": NOTICE["kind"]})
    stored = sorted([core, driver, *many], key=lambda row: row[1])
    assert [row[1] for row in stored] == ["core", "driver", "many-1", "many-2"]
    for row in stored[1:]:
        assert row[:1] + row[2:] == stored[0][:1] + stored[0][2:]  # all but the subject

    with database.engine.connect() as connection:
        through_core = [tuple(row) for row in connection.execute(READ, {"kind": NOTICE["kind"]})]
        through_driver = run(connection, READ, {"kind": NOTICE["kind"]}).all()
    assert through_driver == through_core
    assert through_driver[0][1] == NOTICE["body"] and through_driver[0][3] is None
    assert through_driver[0][2].replace(tzinfo=UTC) == NOTICE["next_attempt_at"]


def test_an_update_returns_its_rows_and_counts_them(database: Database) -> None:
    with database.engine.begin() as connection:
        run(connection, INSERT, [NOTICE | {"subject": s} for s in ("a", "b")])
        changed = run(connection, ACKNOWLEDGE, {"k": NOTICE["kind"], "s": "a"})
        assert [(attempts, due.replace(tzinfo=UTC)) for attempts, due in changed] == [
            (1, NOTICE["next_attempt_at"])
        ]
        assert changed.rowcount == 1
        assert run(connection, ACKNOWLEDGE, {"k": NOTICE["kind"], "s": "absent"}).first() is None
        found = run(connection, BY_SUBJECTS[3], in_values("s", ["a", "b", "absent"])).scalars()
    assert sorted(found) == ["a", "b"]


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it_and_rolls_back_with_the_transaction(
    database: Database,
) -> None:
    with database.engine.connect() as connection:
        transaction = connection.begin()
        run(connection, INSERT, NOTICE | {"subject": "once"})
        with pytest.raises(IntegrityError) as raised:
            run(connection, INSERT, NOTICE | {"subject": "once"})
        assert raised.value.orig is not None
        transaction.rollback()
    assert _stored(database, "origin_notice", "kind = :kind", {"kind": NOTICE["kind"]}) == []


COMPUTED = Table(  # never created: the refusal comes before anything is sent
    "computed_default",
    MetaData(),
    Column("id", String, primary_key=True),
    Column("at", DateTime, default=lambda: datetime.now(UTC)),
)


@dataclass(frozen=True)
class Unfixed:
    """A statement whose SQL is not fixed, what it is run with, and what the refusal says."""

    statement: Any
    params: dict[str, Any]
    says: str


UNFIXED = {
    "expanding-in": Unfixed(
        statement=select(TABLE.c.subject).where(TABLE.c.subject.in_(bindparam("s", expanding=True))),
        params={"s": ["a"]},
        says="expanding parameter",
    ),
    "computed-default-left-out": Unfixed(  # "at": computed when the row is inserted
        statement=insert(COMPUTED),
        params={"id": "a"},
        says="computed Python-side default",
    ),
}


@pytest.mark.parametrize("case", UNFIXED.values(), ids=UNFIXED.keys())
def test_statements_without_a_fixed_sql_are_refused_before_anything_is_sent(
    database: Database, case: Unfixed
) -> None:
    with database.engine.connect() as connection, pytest.raises(ValueError, match=case.says):
        run(connection, case.statement, case.params)


def test_a_missing_or_hostile_parameter_fails_as_on_the_core_path(database: Database) -> None:
    with database.engine.begin() as connection:
        with pytest.raises(KeyError):
            run(connection, READ, {})
        row = NOTICE | {"subject": "late", "created_at": datetime(2026, 12, 1, tzinfo=UTC)}
        run(connection, INSERT, row)
        assert (
            run(connection, BY_SUBJECTS[1], in_values("s", ["late'; DROP TABLE origin_notice; --"])).all()
            == []
        )
        assert run(connection, BY_SUBJECTS[1], in_values("s", ["late"])).scalars() == ["late"]


def test_driver_sql_is_run_in_the_transaction_and_its_errors_raised_as_sqlalchemy_raises_them(
    database: Database,
) -> None:
    with database.engine.begin() as connection:
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        run(connection, INSERT, NOTICE | {"subject": "seen"})  # not committed yet: read in the transaction
        sql = f"SELECT subject, attempts FROM origin_notice WHERE subject = {mark}"
        assert run_sql(connection, sql, ("seen",)).all() == [("seen", 0)]
        assert run_sql(connection, sql, ("' OR 1=1 --",)).all() == []
    with database.engine.connect() as connection, pytest.raises(DBAPIError) as raised:
        run_sql(connection, "SELECT nothing FROM no_such_table", ())
    assert raised.value.orig is not None
