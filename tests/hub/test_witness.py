"""The witness (c2sp.org/tlog-witness) as a table of what a log — honest, stale, forked or foreign —
sends to ``POST /witness/add-checkpoint``, with the answers the spec requires; evidence, events and
the console banner of a split view; racing requests that never roll the stored size back; and the
administrators' API and CLI for the logs witnessed."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from hub.client import HubProblem, PermissionDenied, PlatformClient, Refused
from hub.database import Database
from hub.identity import witness_verifiers
from hub.keystore import KeyStore
from hub.log.repository import LogRepository
from hub.settings import Settings
from hub.witness.repository import WitnessRepository
from hub.witness.service import Witness, WitnessedLogs, trust_log
from tests.federation.witness_hubs import FakeLog
from transparency.note import Note, Signer, b64, open_note, parse_note, parse_signature_lines
from transparency.witness import MAX_BODY, AddCheckpoint, parse_add_checkpoint

ORIGIN = "gd.hub.test/log"
ADD = "/witness/add-checkpoint"
AsClient = Callable[[str], PlatformClient]


def _trust(database: Database, log: FakeLog, actor: str = "test") -> None:
    with database.unit_of_work() as session:
        trust_log(session, log.origin, [log.vkey], actor, base_url="http://gd.hub.test")


def _cosign(client: TestClient, body: bytes) -> Any:
    return client.post(ADD, content=body, headers={"content-type": "text/plain"})


def _stored(database: Database, origin: str = ORIGIN) -> tuple[int, bytes] | None:
    with database.unit_of_work() as session:
        found = WitnessRepository(session).latest(origin)
        return None if found is None else (int(found.size), bytes(found.root_hash))


def _events(database: Database, kind: str) -> list[dict[str, Any]]:
    with database.unit_of_work() as session:
        repository = LogRepository(session)
        entries = [json.loads(entry.entry) for entry in repository.entries(0, repository.size())]
    return [entry for entry in entries if entry["type"] == kind]


def _evidence(database: Database) -> list[Any]:
    with database.unit_of_work() as session:
        return WitnessedLogs(session).alarms(open_only=False)


def spec_cosignature_check(line: str, checkpoint_text: str, name: str, public: bytes) -> int:
    """An independent reading of a cosignature line, from c2sp.org/tlog-cosignature and
    c2sp.org/signed-note alone (no hub or transparency code): its timestamp, if it verifies."""
    import base64
    import hashlib

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    dash, key_name, encoded = line.split(" ")
    assert dash == "\u2014" and key_name == name
    raw = base64.b64decode(encoded, validate=True)
    assert raw[:4] == hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    assert len(raw) == 4 + 8 + 64
    stamp = int.from_bytes(raw[4:12], "big")
    message = f"cosignature/v1\ntime {stamp}\n{checkpoint_text}".encode()
    Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], message)  # raises if not
    return stamp


FOREIGN = Signer(ORIGIN, Ed25519PrivateKey.generate())  # another key under the log's name
OTHER = FakeLog("elsewhere.test/log", 4)


@dataclass(frozen=True)
class Row:
    name: str
    prior: int | None  # the size cosigned before the request (None: nothing)
    body: Callable[[FakeLog], bytes]
    status: int
    known: int | None = None  # the size a 409 names
    evidence: str | None = None  # the kind of evidence kept
    stored_after: int | None = field(default=None)


def _many_proof_lines(log: FakeLog) -> bytes:
    head = "old 5\n" + "".join(f"{b64(bytes(32))}\n" for _ in range(64))
    return (head + "\n" + log.note(9).render()).encode()


ROWS = [
    Row("first checkpoint", None, lambda log: log.request(0, 5), 200, stored_after=5),
    Row("consistent growth", 5, lambda log: log.request(5, 9), 200, stored_after=9),
    Row("the same tree again", 5, lambda log: log.request(5, 5), 200, stored_after=5),
    Row("a first empty tree", None, lambda log: log.request(0, 0), 200, stored_after=0),
    Row("stale old size", 9, lambda log: log.request(5, 12), 409, known=9, stored_after=9),
    Row("old size 0 after a cosignature", 9, lambda log: log.request(0, 12), 409, known=9, stored_after=9),
    Row("old size when nothing was cosigned", None, lambda log: log.request(3, 9), 409, known=0),
    Row("old size above the checkpoint's", 5, lambda log: log.request(7, 5, proof=()), 400, stored_after=5),
    Row("unknown origin", None, lambda log: OTHER.request(0, 4), 404),
    Row("foreign key", None, lambda log: log.request(0, 5, note=log.note(5, [FOREIGN])), 403),
    Row(
        "a known key's bad signature beside a good one",
        None,
        lambda log: log.request(
            0,
            5,
            note=Note(log.note(5).text, (log.signer.sign(log.checkpoint(4).text()), *log.note(5).signatures)),
        ),
        403,
    ),
    Row(
        "a proof that does not verify",
        5,
        lambda log: log.fork(2).request(5, 9),
        422,
        evidence="inconsistent-proof",
        stored_after=5,
    ),
    Row(
        "a proof of other hashes",
        5,
        lambda log: log.request(5, 9, proof=tuple(bytes([n]) * 32 for n in range(4))),
        422,
        evidence="inconsistent-proof",
        stored_after=5,
    ),
    Row(
        "same size, another root",
        5,
        lambda log: log.fork(1).request(5, 5),
        409,
        evidence="same-size-other-root",
        stored_after=5,
    ),
    Row("a proof from size 0", None, lambda log: log.request(0, 5, proof=(bytes(32),)), 422),
    Row("empty body", None, lambda log: b"", 400),
    Row("no blank line", None, lambda log: b"old 0\n" + log.note(5).text.encode(), 400),
    Row(
        "old size with a leading zero", None, lambda log: log.request(0, 5).replace(b"old 0", b"old 00"), 400
    ),
    Row("not an old line", None, lambda log: log.request(0, 5).replace(b"old 0", b"new 0"), 400),
    Row("negative old size", None, lambda log: log.request(0, 5).replace(b"old 0", b"old -1"), 400),
    Row(
        "a proof line not base64",
        5,
        lambda log: log.request(5, 9).replace(b"\n", b"\n!!!!\n", 1),
        400,
        stored_after=5,
    ),
    Row(
        "a proof hash of 31 bytes",
        5,
        lambda log: log.request(5, 9, proof=(bytes(31),)),
        400,
        stored_after=5,
    ),
    Row("64 proof lines", 5, _many_proof_lines, 400, stored_after=5),
    Row("not UTF-8", None, lambda log: log.request(0, 5) + b"\xff", 400),
    Row("a checkpoint without signature", None, lambda log: f"old 0\n\n{log.note(5).text}\n".encode(), 400),
    Row(
        "a note that is no checkpoint",
        None,
        lambda log: ("old 0\n\nhello\n\n" + log.signer.sign("hello\n").line()).encode(),
        400,
    ),
    Row("a NUL in the note", None, lambda log: log.request(0, 5).replace(b"gd.hub", b"gd\x00hub", 1), 400),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_the_witness_protocol(row: Row, client: TestClient, database: Database, settings: Settings) -> None:
    log = FakeLog(ORIGIN, 12)
    _trust(database, log)
    if row.prior is not None:
        assert _cosign(client, log.request(0, row.prior)).status_code == 200
    events_before = len(_events(database, "witness.split_view_detected"))
    answer = _cosign(client, row.body(log))
    assert answer.status_code == row.status, answer.text
    if row.status == 200:
        lines = parse_signature_lines(answer.text)
        size = parse_add_checkpoint(row.body(log)).note.text
        verifiers = witness_verifiers(settings, KeyStore(settings.resolved_keys_dir))
        opened = open_note(parse_note(size + "\n" + answer.text), verifiers)  # the witness's own key
        assert len(opened.verified) == len(lines) >= 1
        for line, verifier in zip(answer.text.splitlines(), verifiers, strict=True):
            stamp = spec_cosignature_check(line, size, verifier.name, verifier.public)
            assert abs(stamp - time.time()) < 3600  # "now", in seconds since the epoch
        assert answer.headers["content-type"].startswith("text/plain")
    elif row.known is not None:
        assert answer.headers["content-type"] == "text/x.tlog.size"
        assert answer.text == f"{row.known}\n"
    else:
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"].startswith("70") or answer.json()["code"] == "1035"
    stored = _stored(database)
    assert (stored[0] if stored else None) == row.stored_after
    if stored is not None:
        assert stored[1] == log.checkpoint(stored[0]).root_hash  # never a forked root
    evidence = _evidence(database)
    events = _events(database, "witness.split_view_detected")
    if row.evidence is None:
        assert evidence == [] and len(events) == events_before
    else:
        assert [found.kind for found in evidence] == [row.evidence]
        assert answer.json()["evidence_id"] == evidence[0].id
        assert row.prior is not None
        assert evidence[0].stored_size == row.prior and evidence[0].source == "submitted"
        assert evidence[0].stored_note == log.note(row.prior).render()
        assert evidence[0].refused_note == parse_add_checkpoint(row.body(log)).note.render()
        assert evidence[0].proof.startswith(f"old {row.prior}\n")
        (event,) = events[events_before:]
        assert event["data"]["origin"] == ORIGIN and event["data"]["kind"] == row.evidence
        assert event["data"]["stored_size"] == row.prior
        assert event["data"]["stored_root"] == b64(log.checkpoint(row.prior).root_hash)
        refused = parse_add_checkpoint(row.body(log)).note.text.split("\n")
        assert (
            event["data"]["refused_size"] == int(refused[1]) and event["data"]["refused_root"] == refused[2]
        )


def test_an_oversized_body_is_refused_before_it_is_read(client: TestClient, database: Database) -> None:
    log = FakeLog(ORIGIN, 5)
    _trust(database, log)
    body = log.request(0, 5)
    padded = body.replace(b"\n\n", b"\n" + b"A" * (MAX_BODY + 1) + b"\n\n", 1)
    answer = _cosign(client, padded)
    assert answer.status_code == 413 and answer.json()["code"] == "1035"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        yield padded[: MAX_BODY // 2]
        yield padded[MAX_BODY // 2 :]

    assert client.post(ADD, content=chunks()).status_code == 413
    assert _stored(database) is None


def test_a_split_view_is_kept_once_and_shown_until_acknowledged(
    client: TestClient, database: Database, operators: dict[str, str], as_client: AsClient
) -> None:
    from tests.federation.witness_hubs import Hub, alarm_banner

    log = FakeLog(ORIGIN, 9)
    _trust(database, log)
    assert _cosign(client, log.request(0, 5)).status_code == 200
    app: Any = client.app
    hub = Hub("w", "http://testserver", app.state.settings, database, app, client)
    assert "witness-alarm" not in alarm_banner(hub, operators["alice"], "alice")
    forged = log.fork(3).request(5, 9)
    for _ in range(3):  # the same evidence sent again is kept once
        assert _cosign(client, forged).status_code == 422
    assert len(_evidence(database)) == 1
    assert len(_events(database, "witness.split_view_detected")) == 1
    page = client.get("/console").text
    assert 'id="witness-alarm"' in page and ORIGIN in page and "consistency proof does not verify" in page
    client.cookies.set("puhui_lang", "zh")
    assert "日志分叉" in client.get("/console/dashboard").text  # every page, both languages
    admin = as_client("admin-1")
    (alarm,) = admin.get("/v1/witness/alarms")
    assert alarm["kind"] == "inconsistent-proof" and alarm["stored_size"] == 5 and alarm["refused_size"] == 9
    platform = as_client("js")
    with pytest.raises((PermissionDenied, Refused)):
        platform.post(f"/v1/witness/alarms/{alarm['id']}/acknowledge", {})
    done = admin.post(f"/v1/witness/alarms/{alarm['id']}/acknowledge", {})
    assert done["acknowledged_by"] == "admin-1"
    assert 'id="witness-alarm"' not in client.get("/console").text
    assert admin.get("/v1/witness/alarms") == []
    assert len(admin.get("/v1/witness/alarms?acknowledged=true")) == 1
    with pytest.raises(HubProblem) as again:
        admin.post(f"/v1/witness/alarms/{alarm['id']}/acknowledge", {"again": True})
    assert again.value.status == 404
    assert _events(database, "witness.alarm_acknowledged")[0]["data"]["actor"] == "admin-1"


@pytest.mark.postgres
def test_racing_add_checkpoints_never_roll_the_size_back(database: Database, settings: Settings) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    log = FakeLog(ORIGIN, 60)
    _trust(database, log)
    keystore = KeyStore(settings.resolved_keys_dir)
    keystore.active()
    seen: list[int] = []
    cosigned: list[tuple[int, int]] = []  # (old, size) of each cosignature
    errors: list[BaseException] = []
    done = threading.Event()

    def submitter(seed: int) -> None:
        rng, known = random.Random(seed), 0
        try:
            for _ in range(12):
                size = rng.randint(known, 60)
                with database.unit_of_work() as session:
                    answer = Witness(session, settings, keystore).add_checkpoint(log.request(known, size))
                if answer.status == 200:
                    cosigned.append((known, size))
                    known = size
                elif answer.status == 409:
                    known = int(answer.known_size or 0)
                else:
                    raise AssertionError(f"{answer.status} {answer.reason}")
        except BaseException as exc:
            errors.append(exc)

    def watcher() -> None:
        while not done.is_set():
            found = _stored(database)
            if found is not None:
                seen.append(found[0])

    threads = [threading.Thread(target=submitter, args=(n,)) for n in range(6)]
    watching = threading.Thread(target=watcher)
    watching.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    watching.join()
    assert errors == []
    assert seen == sorted(seen), "the stored size went back"
    final = _stored(database)
    assert final is not None and final[0] == max(size for _, size in cosigned)
    assert final[1] == log.checkpoint(final[0]).root_hash
    # every cosignature moved the stored size from exactly its old size: the moves form one chain
    moves = sorted({(old, size) for old, size in cosigned if old != size})
    assert [old for old, _ in moves] == [0, *[size for _, size in moves[:-1]]]


@dataclass(frozen=True)
class BadLog:
    name: str
    body: dict[str, Any]


BAD_LOGS = [
    BadLog("vkey not a vkey", {"origin": ORIGIN, "vkeys": ["nonsense"]}),
    BadLog("vkey of another name", {"origin": ORIGIN, "vkeys": [FakeLog("x.test/log").vkey]}),
    BadLog(
        "a cosignature key",
        {"origin": ORIGIN, "vkeys": [Signer(ORIGIN, Ed25519PrivateKey.generate(), 4).verifier.vkey]},
    ),
    BadLog("the same key twice", {"origin": ORIGIN, "vkeys": [FOREIGN.verifier.vkey, FOREIGN.verifier.vkey]}),
    BadLog("an origin with a space", {"origin": "gd hub/log", "vkeys": [FOREIGN.verifier.vkey]}),
    BadLog(
        "a base URL not http", {"origin": ORIGIN, "vkeys": [FOREIGN.verifier.vkey], "base_url": "ftp://x"}
    ),
]


def test_administrators_manage_the_logs_witnessed(
    client: TestClient, database: Database, as_client: AsClient
) -> None:
    admin = as_client("admin-1")
    log = FakeLog(ORIGIN, 9)
    added = admin.post(
        "/v1/witness/logs", {"origin": ORIGIN, "vkeys": [log.vkey], "base_url": "http://gd.hub.test/"}
    )
    assert (
        added["origin"] == ORIGIN
        and added["vkeys"] == [log.vkey]
        and added["base_url"] == "http://gd.hub.test"
    )
    assert _cosign(client, log.request(0, 5)).status_code == 200
    assert [found["origin"] for found in admin.get("/v1/witness/logs")] == [ORIGIN]
    for bad in BAD_LOGS:
        with pytest.raises(HubProblem) as refused:
            admin.post("/v1/witness/logs", bad.body)
        assert refused.value.status in (400, 422), bad.name
        assert refused.value.code in ("7026", "1002", "1049"), bad.name
    with pytest.raises(PermissionDenied):
        as_client("js").post("/v1/witness/logs", {"origin": ORIGIN, "vkeys": [FOREIGN.verifier.vkey]})
    for role in ("operator-sh", "committee-1", "sh"):  # administrators only, whatever the role
        with pytest.raises(PermissionDenied):
            as_client(role).get("/v1/witness/logs")
        with pytest.raises(PermissionDenied):
            as_client(role).get("/v1/witness/alarms")
    assert admin.delete(f"/v1/witness/logs/{ORIGIN}") == {"origin": ORIGIN, "removed": True}
    assert _cosign(client, log.request(5, 5)).status_code == 404  # no longer witnessed
    with pytest.raises(HubProblem) as gone:
        admin.delete(f"/v1/witness/logs/{ORIGIN}")
    assert gone.value.status == 404 and gone.value.code == "7021"
    admin.post("/v1/witness/logs", {"origin": ORIGIN, "vkeys": [log.vkey]})
    assert _cosign(client, log.request(0, 9)).text == "5\n"  # trusted again: it continues from 5
    kinds = [entry["type"] for entry in _events(database, "witness.log_trusted")]
    kinds += [entry["type"] for entry in _events(database, "witness.log_removed")]
    kinds += [entry["type"] for entry in _events(database, "witness.log_keys_replaced")]
    assert kinds == ["witness.log_trusted", "witness.log_removed", "witness.log_keys_replaced"]


def test_the_cli_manages_the_logs_witnessed(cli_hub: Path) -> None:
    from typer.testing import CliRunner

    from hub.cli.main import app

    runner = CliRunner()
    log = FakeLog(ORIGIN, 3)
    added = runner.invoke(app, ["witness", "add-log", ORIGIN, log.vkey, "--url", "http://gd.hub.test"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["witness", "list"])
    assert ORIGIN in listed.output and "yes" in listed.output
    refused = runner.invoke(app, ["witness", "add-log", ORIGIN, "not-a-vkey"])
    assert refused.exit_code == 1 and "vkey 1" in refused.output
    assert runner.invoke(app, ["witness", "alarms"]).exit_code == 0
    missing = runner.invoke(app, ["witness", "acknowledge", "7"])
    assert missing.exit_code == 1 and "no open witness alarm" in missing.output
    assert runner.invoke(app, ["witness", "remove", ORIGIN]).exit_code == 0
    assert "no" in runner.invoke(app, ["witness", "list"]).output
    assert runner.invoke(app, ["witness", "remove", ORIGIN]).exit_code == 1


def test_a_request_renders_as_it_parses() -> None:
    log = FakeLog(ORIGIN, 9)
    body = log.request(5, 9)
    parsed = parse_add_checkpoint(body)
    assert parsed.old_size == 5 and len(parsed.proof) >= 1
    assert AddCheckpoint(parsed.old_size, parsed.proof, parsed.note).render().encode() == body


def test_the_monitor_runs_with_the_workers(settings: Settings, database: Database) -> None:
    from hub.app import create_app

    def running() -> bool:
        return any(thread.name == "peermonitor-thread" for thread in threading.enumerate())

    for enabled in (True, False):
        workers = settings.model_copy(update={"webhook_worker": True, "witness_monitor": enabled})
        with TestClient(create_app(workers, database)):
            assert running() is enabled
        assert not running()
