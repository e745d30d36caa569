"""``hub.multirow`` stores what one-row statements store (PostgreSQL: one statement over a JSON
document; SQLite: an ``executemany``), on both backends, column by column as the database holds it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import insert, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from hub.database import Database
from hub.multirow import delete_rows, insert_many, insert_rows, update_rows

NOTICE = {
    "kind": "transfer-completed",
    "platform_code": "JS",
    "idempotency_key": "k" * 64,
    "body": {"transfer_id": "TR-1", "blocks": [{"serial_start": 2**62, "quantity": 10}], "名": 'a"\\b'},
    "status": "pending",
    "attempts": 0,
    "next_attempt_at": datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC),
    "last_error": None,
    "answered_at": None,
    "created_at": datetime(2026, 11, 30, 12, 0, 0, 654321, tzinfo=UTC),
}


def _stored(database: Database, table: str, where: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows as the database holds them (JSON and timestamps as their stored text)."""
    with database.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            columns = "kind, subject, platform_code, idempotency_key, body::text, status, attempts, "
            columns += "next_attempt_at::text, last_error, answered_at::text, created_at::text"
        else:
            columns = "kind, subject, platform_code, idempotency_key, CAST(body AS TEXT), status, attempts, "
            columns += "CAST(next_attempt_at AS TEXT), last_error, answered_at, CAST(created_at AS TEXT)"
        rows = connection.execute(
            text(f"SELECT {columns} FROM {table} WHERE {where} ORDER BY subject"), params
        )
        return [tuple(row) for row in rows]


def test_many_rows_are_stored_as_one_row_statements_store_them(database: Database) -> None:
    table = SQLModel.metadata.tables["origin_notice"]
    with database.engine.begin() as connection:
        connection.execute(insert(table), NOTICE | {"subject": "one-by-one"})
        insert_rows(connection, table, [NOTICE | {"subject": "many-1"}, NOTICE | {"subject": "many-2"}])
    one, *many = _stored(database, "origin_notice", "kind = :kind", {"kind": NOTICE["kind"]})
    assert len(many) == 2
    for row in many:
        assert row[:1] + row[2:] == one[:1] + one[2:]  # all but the subject

    later = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    change = {"status": "acknowledged", "attempts": 1, "answered_at": later, "body": {"again": [1, None]}}
    with database.engine.begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.subject == "one-by-one", table.c.kind == NOTICE["kind"])
            .values(change)
        )
        key = {"kind": NOTICE["kind"], "platform_code": "JS"}
        rows = [key | {"subject": subject} | change for subject in ("many-1", "many-2")]
        update_rows(connection, table, ("kind", "subject", "platform_code"), rows)
    one, *many = _stored(database, "origin_notice", "kind = :kind", {"kind": NOTICE["kind"]})
    for row in many:
        assert row[:1] + row[2:] == one[:1] + one[2:]
    assert one[5] == "acknowledged" and one[6] == 1

    with database.engine.begin() as connection:
        gone = delete_rows(
            connection,
            table,
            [
                {"kind": NOTICE["kind"], "subject": "many-1", "status": "acknowledged"},
                {"kind": NOTICE["kind"], "subject": "many-2", "status": "pending"},  # not so: stays
                {"kind": NOTICE["kind"], "subject": "absent", "status": "acknowledged"},
            ],
        )
    assert gone == 1
    left = _stored(database, "origin_notice", "kind = :kind", {"kind": NOTICE["kind"]})
    assert [row[1] for row in left] == ["many-2", "one-by-one"]


def test_bytes_and_integers_of_the_log_are_stored_exactly(database: Database) -> None:
    table = SQLModel.metadata.tables["log_node"]
    rows = [
        {"level": level, "idx": 2**40 + level, "hash": bytes(range(level, level + 32))} for level in range(5)
    ]
    rows.append({"level": 9, "idx": 0, "hash": b"\x00\\x'\"" * 8})
    with database.engine.begin() as connection:
        insert_rows(connection, table, rows)
    with database.engine.connect() as connection:
        found = connection.execute(
            text("SELECT level, idx, hash FROM log_node WHERE level IN (0, 1, 2, 3, 4, 9)")
        )
        stored = {(level, idx): bytes(value) for level, idx, value in found}
    assert stored == {(row["level"], row["idx"]): row["hash"] for row in rows}


def _log_rows(database: Database) -> dict[str, set[tuple[Any, ...]]]:
    with database.engine.connect() as connection:
        return {
            "log_entry": {
                (index, bytes(entry), kind, subject)
                for index, entry, kind, subject in connection.execute(
                    text('SELECT "index", entry, type, subject_id FROM log_entry WHERE "index" >= 2000000')
                )
            },
            "log_node": {
                (level, idx, bytes(value))
                for level, idx, value in connection.execute(
                    text("SELECT level, idx, hash FROM log_node WHERE idx >= 2000000")
                )
            },
            "event_recipient": set(
                connection.execute(
                    text('SELECT platform_code, "index" FROM event_recipient WHERE "index" >= 2000000')
                )
            ),
            "webhook_delivery": set(
                connection.execute(
                    text('SELECT platform_code, "index", url FROM webhook_delivery WHERE "index" >= 2000000')
                )
            ),
        }


def test_the_rows_of_several_tables_are_written_together_or_not_at_all(database: Database) -> None:
    """``insert_many`` (the log append's write: one statement on PostgreSQL) stores every table's
    rows as given; when one row of the last table is refused, no table keeps any of its rows."""
    at = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)
    tables = SQLModel.metadata.tables

    def writes(index: int, *, recipient: str = "JS") -> list[tuple[Any, list[dict[str, Any]]]]:
        entry = {"index": index, "entry": b'{"k":"\\u540d\\\\"}\x00', "type": "transfer.accepted"}
        entry |= {"subject_kind": "transfer", "subject_id": f"TR-{index}", "created_at": at}
        delivery = {"index": index, "platform_code": "SH", "url": "https://sh.example/hook?a='b'"}
        delivery |= {"status": "pending", "attempts": 0, "next_attempt_at": at}
        return [
            (tables["log_entry"], [entry]),
            (tables["log_node"], [{"level": 0, "idx": index, "hash": bytes(range(32))}]),
            (
                tables["event_recipient"],
                [{"platform_code": recipient, "index": index}, {"platform_code": "SH", "index": index}],
            ),
            (tables["webhook_delivery"], [delivery]),
        ]

    with database.engine.begin() as connection:
        insert_many(connection, writes(2_000_000))
        insert_many(connection, [(tables["log_node"], []), (tables["log_entry"], [])])  # nothing to write
    stored = _log_rows(database)
    assert stored["log_entry"] == {(2_000_000, b'{"k":"\\u540d\\\\"}\x00', "transfer.accepted", "TR-2000000")}
    assert stored["log_node"] == {(0, 2_000_000, bytes(range(32)))}
    assert stored["event_recipient"] == {("JS", 2_000_000), ("SH", 2_000_000)}
    assert stored["webhook_delivery"] == {("SH", 2_000_000, "https://sh.example/hook?a='b'")}

    refused = writes(2_000_001)
    refused[3] = (tables["webhook_delivery"], [*refused[3][1], refused[3][1][0]])  # the same key twice
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        insert_many(connection, refused)
    assert _log_rows(database) == stored


def _notice(subject: str, **changes: Any) -> dict[str, Any]:
    return NOTICE | {"subject": subject} | changes


def _subjects(database: Database, like: str) -> list[str]:
    with database.engine.connect() as connection:
        found = connection.execute(
            text("SELECT subject FROM origin_notice WHERE subject LIKE :s"), {"s": like}
        )
        return sorted(row[0] for row in found)


def test_rows_naming_their_columns_in_another_order_delete_and_update_the_same_rows(
    database: Database,
) -> None:
    """Keys in another order than the first row's: the same rows deleted and updated on both
    backends (SQLite's row-value IN list took each row's values in its own order, and deleted
    nothing, or another row, for such a row)."""
    table = SQLModel.metadata.tables["origin_notice"]
    with database.engine.begin() as connection:
        insert_rows(connection, table, [_notice(f"order-{n}") for n in range(4)])
        key = ("kind", "subject", "platform_code")
        update_rows(
            connection,
            table,
            key,
            [
                {"kind": NOTICE["kind"], "subject": "order-0", "platform_code": "JS", "status": "refused"},
                {
                    "status": "acknowledged",
                    "platform_code": "JS",
                    "subject": "order-1",
                    "kind": NOTICE["kind"],
                },
            ],
        )
        gone = delete_rows(
            connection,
            table,
            [
                {"kind": NOTICE["kind"], "subject": "order-2"},
                {"subject": "order-3", "kind": NOTICE["kind"]},
                {"subject": NOTICE["kind"], "kind": "order-0"},  # the values swapped: no such row
            ],
        )
    assert gone == 2
    assert _subjects(database, "order-%") == ["order-0", "order-1"]
    with database.engine.connect() as connection:
        statuses = dict(
            connection.execute(
                text("SELECT subject, status FROM origin_notice WHERE subject LIKE 'order-%'")
            ).all()
        )  # type: ignore[arg-type]
    assert statuses == {"order-0": "refused", "order-1": "acknowledged"}


@pytest.mark.parametrize("write", ["insert", "update", "delete"])
def test_rows_naming_other_columns_are_refused_and_write_nothing(database: Database, write: str) -> None:
    """A row naming a column the first does not (its value was dropped on both backends), or
    leaving one out (PostgreSQL stored NULL for it), is refused before anything is written."""
    table = SQLModel.metadata.tables["origin_notice"]
    with database.engine.begin() as connection:
        insert_rows(connection, table, [_notice("kept-0"), _notice("kept-1")])
    key = {"kind": NOTICE["kind"], "platform_code": "JS"}
    batches = {
        "insert": [
            [_notice("new-0"), _notice("new-1") | {"surplus": 1}],
            [_notice("new-0"), {k: v for k, v in _notice("new-1").items() if k != "last_error"}],
        ],
        "update": [
            [
                key | {"subject": "kept-0", "status": "refused"},
                key | {"subject": "kept-1", "status": "refused", "attempts": 9},
            ],
            [
                key | {"subject": "kept-0", "status": "refused", "attempts": 9},
                key | {"subject": "kept-1", "status": "refused"},
            ],
        ],
        "delete": [
            [
                {"subject": "kept-0", "kind": NOTICE["kind"]},
                {"subject": "kept-1", "kind": NOTICE["kind"], "status": "pending"},
            ],
            [{"subject": "kept-0", "kind": NOTICE["kind"], "status": "pending"}, {"subject": "kept-1"}],
        ],
    }
    for rows in batches[write]:
        refused = pytest.raises(ValueError, match="row 1 names other columns than row 0")
        with refused, database.engine.begin() as connection:
            if write == "insert":
                insert_rows(connection, table, rows)
            elif write == "update":
                update_rows(connection, table, ("kind", "subject", "platform_code"), rows)
            else:
                delete_rows(connection, table, rows)
    assert _subjects(database, "%") == ["kept-0", "kept-1"]
    stored = _stored(database, "origin_notice", "kind = :kind", {"kind": NOTICE["kind"]})
    assert {(row[5], row[6]) for row in stored} == {("pending", 0)}


def test_none_in_a_json_column_is_json_null_as_a_one_row_statement_stores_it(database: Database) -> None:
    """PostgreSQL read a JSON column's null in the document as SQL NULL (here a NOT NULL
    violation; elsewhere SQL NULL where a one-row statement stores JSON null)."""
    table = SQLModel.metadata.tables["origin_notice"]
    with database.engine.begin() as connection:
        connection.execute(insert(table), _notice("null-one", body=None))
        insert_rows(connection, table, [_notice("null-many-0", body=None), _notice("null-many-1", body={})])
        key = {"kind": NOTICE["kind"], "subject": "null-many-1", "platform_code": "JS"}
        update_rows(connection, table, ("kind", "subject", "platform_code"), [key | {"body": None}])
    with database.engine.connect() as connection:
        cast = "body::text" if connection.dialect.name == "postgresql" else "CAST(body AS TEXT)"
        found = connection.execute(
            text(
                f"SELECT subject, {cast}, body IS NULL FROM origin_notice"
                " WHERE subject LIKE 'null-%' ORDER BY subject"
            )
        ).all()
    assert [tuple(row) for row in found] == [
        ("null-many-0", "null", False),
        ("null-many-1", "null", False),
        ("null-one", "null", False),
    ]


def test_moments_with_any_offset_or_none_are_stored_as_the_same_utc_instant(database: Database) -> None:
    """A +08:00 moment was stored on SQLite as its wall-clock time (eight hours from the instant
    PostgreSQL stored), by one-row statements and many-row ones alike; a naive one was read by
    PostgreSQL in the session's time zone. Both are now the same UTC instant on both backends,
    whatever the session's time zone."""
    table = SQLModel.metadata.tables["origin_notice"]
    instant = datetime(2026, 11, 30, 4, 0, 0, 250000, tzinfo=UTC)
    moments = {
        "utc": instant,
        "beijing": instant.astimezone(timezone(timedelta(hours=8))),
        "behind": instant.astimezone(timezone(timedelta(hours=-3, minutes=-30))),
        "naive": instant.replace(tzinfo=None),
    }
    with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
        for name, moment in moments.items():
            connection.execute(
                insert(table), _notice(f"tz-one-{name}", next_attempt_at=moment, answered_at=moment)
            )
        insert_rows(
            connection, table, [_notice(f"tz-many-{name}", next_attempt_at=m) for name, m in moments.items()]
        )
        key = {"kind": NOTICE["kind"], "platform_code": "JS"}
        answered = [key | {"subject": f"tz-many-{name}", "answered_at": m} for name, m in moments.items()]
        update_rows(connection, table, ("kind", "subject", "platform_code"), answered)
    with database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT subject, next_attempt_at, answered_at FROM origin_notice WHERE subject LIKE 'tz-%'")
        ).all()
    assert len(rows) == 2 * len(moments)
    for subject, *stored in rows:
        for value in stored:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
            assert moment.replace(tzinfo=moment.tzinfo or UTC) == instant, subject


@pytest.mark.parametrize(
    ("value", "refused_on_postgresql"),
    [
        pytest.param("名字 🎉 \u2028 \U0001f333 ' \" \\ %", False, id="unicode-and-quotes"),
        pytest.param("x" * 1_000_000, False, id="a-million-characters"),
        pytest.param("a\x00b", True, id="nul"),
    ],
)
def test_texts_are_stored_as_one_row_statements_store_them_or_refused_alike(
    database: Database, value: str, refused_on_postgresql: bool
) -> None:
    """Unicode, quotes and long texts come back exactly, in a text column and inside JSON; a NUL
    is what PostgreSQL cannot hold, one row or many (the hub refuses it at the edge, 1049:
    tests/hub/test_strict_input.py)."""
    from sqlalchemy.exc import DataError

    table = SQLModel.metadata.tables["origin_notice"]
    rows = [_notice(f"text-{n}", last_error=value, body={"v": value, value[:50]: [value]}) for n in range(2)]
    if refused_on_postgresql and database.engine.dialect.name == "postgresql":
        for write in (lambda c: c.execute(insert(table), rows[0]), lambda c: insert_rows(c, table, rows)):
            with pytest.raises(DataError), database.engine.begin() as connection:
                write(connection)
        assert _subjects(database, "text-%") == []
        return
    with database.engine.begin() as connection:
        connection.execute(insert(table), rows[0])
        insert_rows(connection, table, rows[1:])
    with database.engine.connect() as connection:
        found = connection.execute(
            text("SELECT last_error, body FROM origin_notice WHERE subject LIKE 'text-%'")
        ).all()
    for last_error, body in found:
        assert last_error == value
        assert (json.loads(body) if isinstance(body, str) else body) == rows[0]["body"]


def test_integers_beyond_int64_are_refused_alike_in_a_bigint_column_and_exact_in_json(
    database: Database,
) -> None:
    from sqlalchemy.exc import DBAPIError

    table = SQLModel.metadata.tables["log_node"]
    for idx in (2**63, -(2**63) - 1):
        with pytest.raises((DBAPIError, OverflowError)), database.engine.begin() as connection:
            insert_rows(
                connection,
                table,
                [{"level": 1, "idx": 1, "hash": b"\x01"}, {"level": 1, "idx": idx, "hash": b"\x02"}],
            )
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM log_node WHERE level = 1")).scalar_one() == 0
    notices = SQLModel.metadata.tables["origin_notice"]
    huge = {"n": 2**70, "m": -(2**64), "s": [2**63 - 1, -(2**63)]}
    with database.engine.begin() as connection:
        insert_rows(connection, notices, [_notice("big-0", body=huge), _notice("big-1", body=huge)])
    with database.engine.connect() as connection:
        bodies = [
            row[0]
            for row in connection.execute(text("SELECT body FROM origin_notice WHERE subject LIKE 'big-%'"))
        ]
    assert [json.loads(b) if isinstance(b, str) else b for b in bodies] == [huge, huge]


def test_rows_naming_one_key_twice_are_refused_alike_and_change_nothing(database: Database) -> None:
    """Finding: two rows of one ``update_rows`` naming the same key (say a round changing one block
    twice) were both applied on SQLite (an ``executemany``: the last one stays) while PostgreSQL's
    ``UPDATE … FROM`` keeps whichever source row its join meets first — another row stored on each
    backend. Refused on both before anything is written: each key once per call."""
    table = SQLModel.metadata.tables["origin_notice"]
    with database.engine.begin() as connection:
        insert_rows(connection, table, [_notice("twice-0"), _notice("twice-1")])
    key = {"kind": NOTICE["kind"], "platform_code": "JS"}
    rows = [key | {"subject": f"twice-{n % 2}", "status": "refused", "attempts": n} for n in range(5)]
    with pytest.raises(ValueError, match="rows 0 and 2 name the same"), database.engine.begin() as connection:
        update_rows(connection, table, ("kind", "subject", "platform_code"), rows)
    stored = _stored(database, "origin_notice", "subject LIKE :s", {"s": "twice-%"})
    assert [(row[1], row[5], row[6]) for row in stored] == [
        ("twice-0", "pending", 0),
        ("twice-1", "pending", 0),
    ]


def test_the_driver_path_stores_what_the_compiled_executemany_stores() -> None:
    """SQLite: many rows go to the driver with each column's bind processor (no parameter
    dictionary per row); the columns left out with a scalar default get it, as SQLAlchemy's
    ``executemany`` gives it, and a table with another kind of default is written the compiled
    way. The same rows through both paths are stored alike."""
    from sqlalchemy import JSON, Column, Integer, LargeBinary, MetaData, String, Table, create_engine

    from hub.models import UtcTimestamp

    def build(name: str, **defaults: Any) -> Table:
        return Table(
            name,
            metadata,
            Column("id", String, primary_key=True),
            Column("body", JSON, nullable=True),
            Column("hash", LargeBinary),
            Column("at", UtcTimestamp()),
            Column("count", Integer, **defaults),
        )

    metadata = MetaData()
    scalar, computed = build("scalar", default=7), build("computed", default=lambda: 8)
    compiled = build("compiled", default=7)
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    moment = datetime(2026, 12, 1, 8, 0, 0, 5, tzinfo=timezone(timedelta(hours=8)))
    rows = [
        {"id": "a", "body": {"名": [2**62, None]}, "hash": b"\x00\xff", "at": moment},
        {"id": "b", "body": None, "hash": b"", "at": moment.replace(tzinfo=None)},
    ]
    with engine.begin() as connection:
        insert_rows(connection, scalar, rows)
        insert_rows(connection, computed, rows)
        connection.execute(insert(compiled), rows)
        update_rows(connection, scalar, "id", [{"id": "b", "body": [1], "count": 9}])
        connection.execute(update(compiled).where(compiled.c.id == "b").values(body=[1], count=9))
        stored = {
            name: connection.execute(
                text(f"SELECT id, CAST(body AS TEXT), hash, CAST(at AS TEXT), count FROM {name} ORDER BY id")
            ).all()
            for name in ("scalar", "computed", "compiled")
        }
    from hub.driver import fits

    with engine.connect() as connection:
        assert fits(connection, insert(scalar), rows[0])  # the driver path ran
        assert not fits(connection, insert(computed), rows[0])  # the compiled one
    assert stored["scalar"] == stored["compiled"]
    assert [row[4] for row in stored["computed"]] == [8, 8]
    assert stored["computed"][0][:4] == stored["compiled"][0][:4]  # "b" was updated in the others
    assert stored["computed"][1][:4] == ("b", "null", b"", stored["compiled"][1][3])
    engine.dispose()
