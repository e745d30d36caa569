"""Forking a hub's log the way an attacker with the database would: rewrite an entry and every
subtree hash above it, so the stored tree is self-consistent but is another history."""

from __future__ import annotations

from sqlalchemy import text

from hub.database import Database
from transparency.merkle import Node, appended_nodes, leaf_hash


def fork_log(database: Database, index: int, entry: bytes = b'{"forged":true}') -> None:
    with database.unit_of_work() as session:
        rows = session.execute(text('SELECT "index", entry FROM log_entry ORDER BY "index"')).all()
        entries = [bytes(row.entry) for row in rows]
        entries[index] = entry
        stored: dict[Node, bytes] = {}
        for position, data in enumerate(entries):
            stored.update(dict(appended_nodes(position, leaf_hash(data), stored)))
        session.execute(text('UPDATE log_entry SET entry = :e WHERE "index" = :i'), {"e": entry, "i": index})
        session.execute(text("DELETE FROM log_node"))
        for (level, idx), value in stored.items():
            session.execute(
                text("INSERT INTO log_node (level, idx, hash) VALUES (:l, :i, :h)"),
                {"l": level, "i": idx, "h": value},
            )
