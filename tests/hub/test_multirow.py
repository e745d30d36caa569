"""``hub.multirow`` stores what one-row statements store (PostgreSQL: one statement over a JSON
document; SQLite: an ``executemany``), on both backends, column by column as the database holds it."""

from __future__ import annotations

from datetime import UTC, datetime
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
