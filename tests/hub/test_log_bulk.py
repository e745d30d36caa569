"""Bulk log appends (hub.log.bulk): many entries under one head lock, the same entries, subtree
hashes, recipients and deliveries as one ``record_change`` each; on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlmodel import col, select

from hub.log.bulk import Change, record_changes
from hub.log.changes import append_change
from hub.log.models import EventRecipient, LogEntry, LogNode, WebhookDelivery
from hub.platforms.models import Platform
from transparency import appended_nodes, leaf_hash


def test_bulk_appends_interleave_with_single_ones_into_one_consistent_tree(database, federation) -> None:
    with database.unit_of_work() as session:
        start = len(session.exec(select(LogEntry.index)).all())
        sh = session.get(Platform, "SH")
        sh.webhook_url = "https://sh.example.test/hooks"
        session.add(sh)
    batches = [
        [Change("test.bulk", ("thing", f"A{n}"), "tester", ("JS", "SH"), {"n": n}) for n in range(7)],
        [Change("test.bulk", ("thing", "B"), "tester", ())],
        [Change("test.bulk", ("thing", f"C{n}"), "tester", ("SH", "SH"), {"n": n}) for n in range(9)],
    ]
    indexes: list[int] = []
    with database.unit_of_work() as session:
        assert record_changes(session, []) == []
        indexes += record_changes(session, batches[0])
        indexes.append(append_change(session, "test.single", subject=("thing", "S"), actor="tester"))
    with database.unit_of_work() as session:
        indexes += record_changes(session, batches[1])
        indexes += record_changes(session, batches[2])
    assert indexes == list(range(start, start + 18))
    with database.unit_of_work() as session:
        entries = session.exec(select(LogEntry).order_by(col(LogEntry.index))).all()
        stored = {(n.level, n.idx): n.hash for n in session.exec(select(LogNode))}
        recipients = session.exec(select(EventRecipient).where(col(EventRecipient.index) >= start)).all()
        deliveries = session.exec(select(WebhookDelivery).where(col(WebhookDelivery.index) >= start)).all()
    rebuilt: dict = {}
    for entry in entries:
        for node, value in appended_nodes(entry.index, leaf_hash(entry.entry), rebuilt):
            rebuilt[node] = value
    assert rebuilt == stored
    bodies = [json.loads(entry.entry) for entry in entries[start:]]
    assert [body["log_index"] for body in bodies] == indexes
    assert [body["subject"]["id"] for body in bodies[:8]] == [*(f"A{n}" for n in range(7)), "S"]
    assert bodies[0]["platforms"] == ["JS", "SH"] and bodies[0]["data"] == {"actor": "tester", "n": 0}
    assert bodies[9]["platforms"] == ["SH"]
    assert len(recipients) == 7 * 2 + 9
    assert sorted(d.index for d in deliveries) == [*indexes[:7], *indexes[9:]]  # SH has a webhook
