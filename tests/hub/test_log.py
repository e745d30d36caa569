"""The transparency log over HTTP: every change logged, signed heads, RFC 9162 proofs checked by an
independent implementation, the event feed, and the audit catching edits made in the database."""

from __future__ import annotations

import base64
import contextlib
import json
import threading

import pytest
from fastapi.testclient import TestClient
from joserfc import jws
from joserfc.jwk import KeySet
from pymerkle import InmemoryTree
from sqlalchemy import text
from sqlmodel import select

from hub.cli.audit import run_audit
from hub.client import PermissionDenied
from hub.log.changes import NotYetAppended, append_change, queued, record_change
from hub.log.models import EventRecipient
from hub.log.reader import LogReader
from hub.log.repository import LogRepository
from schemas.jwk import Ed25519Key
from transparency import leaf_hash, root_from_leaves, verify_consistency, verify_inclusion


def _entries(client: TestClient, size: int) -> list[bytes]:
    items = client.get("/v1/log/entries", params={"start": 0, "end": size}).json()
    return [base64.b64decode(item["entry_b64"]) for item in items]


def _rotate(as_client, code: str = "js") -> None:
    """A rotation that keeps the credentials' key (a key change is signed with a current key)."""
    platform = as_client(code)
    keys = [platform.key.public_jwk(), Ed25519Key.generate().public_jwk()]
    platform.put(f"/v1/platforms/{code.upper()}/jwks", {"keys": keys})


def test_every_change_of_the_demo_is_logged(client: TestClient, federation) -> None:
    head = client.get("/v1/log/tree-head").json()
    types = [json.loads(entry)["type"] for entry in _entries(client, head["tree_size"])]
    assert types.count("platform.registered") == 5
    assert types.count("client.created") == 10
    assert types.count("root.installed") == 1
    assert types.count("ruleset.published") == 2


def test_the_signed_head_verifies_with_an_independent_jose_library_and_pymerkle(
    client: TestClient, federation
) -> None:
    head = client.get("/v1/log/tree-head").json()
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
    payload = json.loads(jws.deserialize_compact(head["signature"], keys, algorithms=["Ed25519"]).payload)
    assert payload == {
        "tree_size": head["tree_size"],
        "root_hash": head["root_hash"],
        "timestamp": head["timestamp"],
    }
    tree = InmemoryTree(algorithm="sha256")
    for entry in _entries(client, head["tree_size"]):
        tree.append_entry(entry)
    assert tree.get_root().hex() == head["root_hash"]


def test_an_inclusion_proof_over_http_is_the_independent_implementations(
    client: TestClient, federation
) -> None:
    size = client.get("/v1/log/tree-head").json()["tree_size"]
    entries = _entries(client, size)
    tree = InmemoryTree(algorithm="sha256")
    for entry in entries:
        tree.append_entry(entry)
    root = tree.get_root()
    for index in (0, 5, size - 1):
        proof = client.get("/v1/log/proofs/inclusion", params={"leaf_index": index, "tree_size": size}).json()
        assert proof["audit_path"] == tree.prove_inclusion(index + 1, size).serialize()["path"][1:]
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        assert verify_inclusion(leaf_hash(entries[index]), index, size, path, root)


def test_successive_heads_are_consistent(client: TestClient, as_client) -> None:
    first = client.get("/v1/log/tree-head").json()
    _rotate(as_client)
    second = client.get("/v1/log/tree-head").json()
    assert second["tree_size"] == first["tree_size"] + 1
    proof = client.get(
        "/v1/log/proofs/consistency", params={"first": first["tree_size"], "second": second["tree_size"]}
    )
    path = [bytes.fromhex(h) for h in proof.json()["consistency_path"]]
    assert verify_consistency(
        first["tree_size"],
        second["tree_size"],
        bytes.fromhex(first["root_hash"]),
        bytes.fromhex(second["root_hash"]),
        path,
    )
    assert [h["tree_size"] for h in client.get("/v1/log/tree-heads").json()] == [
        first["tree_size"],
        second["tree_size"],
    ]


def test_bad_proof_requests_are_4xx(client: TestClient, federation) -> None:
    size = client.get("/v1/log/tree-head").json()["tree_size"]
    assert (
        client.get("/v1/log/proofs/inclusion", params={"leaf_index": size, "tree_size": size}).status_code
        == 400
    )
    assert (
        client.get("/v1/log/proofs/inclusion", params={"leaf_index": 0, "tree_size": size + 5}).status_code
        == 400
    )
    assert client.get("/v1/log/proofs/consistency", params={"first": 3, "second": 2}).status_code == 400
    assert client.get("/v1/log/entries", params={"start": 5, "end": 5}).status_code == 400


def test_a_refused_request_logs_nothing(client: TestClient, as_client) -> None:
    before = client.get("/v1/log/tree-head").json()["tree_size"]
    with pytest.raises(PermissionDenied):
        as_client("js").post("/v1/platforms/JS/suspend", {})
    assert client.get("/v1/log/tree-head").json()["tree_size"] == before


def test_the_event_feed_shows_a_platform_its_own_events_after_a_cursor(as_client) -> None:
    jiangsu, shanghai = as_client("js"), as_client("sh")
    start = jiangsu.get("/v1/events")
    assert {
        event["subject"]["id"] for event in start["events"] if event["subject"]["kind"] == "platform"
    } == {"JS"}
    cursor = start["next_cursor"]
    _rotate(as_client)
    fresh = jiangsu.get("/v1/events", after=cursor)
    assert [event["type"] for event in fresh["events"]] == ["platform.keys_rotated"]
    assert fresh["events"][0]["log_index"] > cursor
    assert jiangsu.get("/v1/events", after=fresh["next_cursor"])["events"] == []
    assert "platform.keys_rotated" not in [event["type"] for event in shanghai.get("/v1/events")["events"]]


def test_the_audit_passes_on_an_untouched_log(client: TestClient, as_client) -> None:
    client.get("/v1/log/tree-head")
    _rotate(as_client)
    report, current = run_audit(client)
    assert report.ok, report.findings
    assert report.entries == current["tree_size"]


@pytest.mark.parametrize(
    ("statements", "params", "expected"),
    [
        (
            ['UPDATE log_entry SET entry = :forged WHERE "index" = 3'],
            {"forged": b'{"forged":true}'},
            "entry 3",
        ),
        (['DELETE FROM log_entry WHERE "index" = 4'], {}, "entry 4: missing"),
        (
            ["UPDATE log_node SET hash = :forged WHERE level = 0 AND idx = 6"],
            {"forged": b"\0" * 32},
            "entry 6",
        ),
        (
            [
                'UPDATE log_entry SET "index" = -1 WHERE "index" = 1',
                'UPDATE log_entry SET "index" = 1 WHERE "index" = 2',
                'UPDATE log_entry SET "index" = 2 WHERE "index" = -1',
            ],
            {},
            "entry 1: it says it is entry 2",
        ),
    ],
    ids=["edited", "deleted", "leaf-hash-edited", "reordered"],
)
def test_the_audit_names_the_entry_edited_in_the_database(
    client: TestClient, database, as_client, statements: list[str], params: dict, expected: str
) -> None:
    client.get("/v1/log/tree-head")
    with database.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)
    report, _ = run_audit(client)
    assert not report.ok
    assert any(expected in finding for finding in report.findings), report.findings


def test_the_audit_catches_an_edited_inner_node_through_consistency(
    client: TestClient, database, as_client
) -> None:
    assert client.get("/v1/log/tree-head").json()["tree_size"] == 18
    for _ in range(2):
        _rotate(as_client)
        client.get("/v1/log/tree-head")
    with database.engine.begin() as connection:  # the root of entries 0..15, used to prove 19 -> 20
        connection.execute(
            text("UPDATE log_node SET hash = :forged WHERE level = 4 AND idx = 0"), {"forged": b"\1" * 32}
        )
    report, _ = run_audit(client)
    assert any("19 -> 20: not consistent" in finding for finding in report.findings), report.findings


class _Abandon(Exception):
    """Raised to roll a unit of work (or a savepoint) back."""


def _interleaved_units(database, worker: int, units: int, kept: dict, dropped: set) -> None:
    """``units`` units of work of one thread, mixing queued and immediate appends, savepoints
    rolled back, and whole units rolled back; what should be in the log goes to ``kept`` (subject
    -> handle or index), what should not to ``dropped``."""
    for n in range(units):
        name = f"w{worker}-u{n}"
        mine: dict = {}
        try:
            with database.unit_of_work() as session:
                mine[f"{name}-queued"] = record_change(
                    session, "test.queued", subject=("test", f"{name}-queued"), actor="test", platforms=["JS"]
                )
                if n % 3 == 0:  # an index needed before commit
                    mine[f"{name}-now"] = append_change(
                        session, "test.immediate", subject=("test", f"{name}-now"), actor="test"
                    )
                if n % 4 == 1:  # a savepoint rolled back takes its own changes only
                    with contextlib.suppress(_Abandon), session.begin_nested():
                        record_change(session, "test.savepoint", subject=("test", f"{name}-sp"), actor="test")
                        dropped.add(f"{name}-sp")
                        raise _Abandon
                mine[f"{name}-last"] = record_change(
                    session, "test.queued", subject=("test", f"{name}-last"), actor="test"
                )
                with pytest.raises(NotYetAppended):
                    _ = mine[f"{name}-last"].index
                if n % 5 == 2:  # the whole unit rolled back: nothing of it is logged
                    raise _Abandon
        except _Abandon:
            dropped.update(mine)
            continue
        kept.update(mine)


def test_interleaved_units_of_work_keep_every_index_and_the_merkle_root(database) -> None:
    """Threads append at the end of their units of work, under one head lock each: indexes stay
    gap-free, every handle and every immediate index names its own entry, nothing rolled back is
    logged, a unit's changes keep their order, and the stored tree is the reference's."""
    kept: dict = {}
    dropped: set = set()
    threads = [
        threading.Thread(target=_interleaved_units, args=(database, worker, 12, kept, dropped))
        for worker in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.unit_of_work() as session:
        reader = LogReader(session)
        size = reader.size()
        entries = LogRepository(session).entries(0, size)
        leaves = LogRepository(session).leaf_hashes(0, size)
        root = reader.root(size)
        recipients = session.exec(select(EventRecipient)).all()
    assert [entry.index for entry in entries] == list(range(size))
    by_subject = {}
    for entry in entries:
        document = json.loads(entry.entry)
        assert (document["log_index"], document["event_id"]) == (entry.index, f"evt-{entry.index}")
        assert leaves[entry.index] == leaf_hash(entry.entry)
        by_subject[document["subject"]["id"]] = entry.index
    assert set(by_subject) == set(kept)
    assert not dropped & set(by_subject)
    for subject, handle in kept.items():
        assert by_subject[subject] == (handle if isinstance(handle, int) else handle.index)
    for subject in kept:
        if subject.endswith("-now"):
            unit = subject.removesuffix("-now")
            assert by_subject[f"{unit}-queued"] < by_subject[subject] < by_subject[f"{unit}-last"]
    assert root == root_from_leaves([leaf_hash(entry.entry) for entry in entries])
    queued_for_js = {by_subject[s] for s in kept if s.endswith("-queued")}
    assert {r.index for r in recipients if r.platform_code == "JS"} == queued_for_js


def test_a_change_is_appended_only_when_its_unit_of_work_commits(database) -> None:
    with database.unit_of_work() as session:
        before = LogReader(session).size()
        change = record_change(session, "test.queued", subject=("test", "one"), actor="test")
        assert queued(session) == [change]
        assert LogReader(session).size() == before  # nothing appended, the head not locked
    assert change.appended
    with database.unit_of_work() as session:
        assert LogReader(session).size() == before + 1
        assert json.loads(LogRepository(session).entries(change.index, change.index + 1)[0].entry)[
            "subject"
        ] == {"kind": "test", "id": "one"}
    session = database.session()
    record_change(session, "test.queued", subject=("test", "two"), actor="test")
    session.close()  # closed without commit: the change goes with it
    with database.unit_of_work() as session:
        assert LogReader(session).size() == before + 1
        assert queued(session) == []


def test_the_locked_head_is_read_afresh_after_an_append_in_the_same_session(database) -> None:
    """A path that locks the head itself (a bulk append) sees the appends made before it in its
    own unit of work, though they moved the head with a Core statement."""
    with database.unit_of_work() as session:
        repository = LogRepository(session)
        start = repository.lock_head().size
        first = append_change(session, "test.immediate", subject=("test", "a"), actor="test")
        assert first == start
        assert repository.lock_head().size == start + 1
        second = append_change(session, "test.immediate", subject=("test", "b"), actor="test")
        assert (second, repository.lock_head().size) == (start + 1, start + 2)
