"""The attacker's pass over federation (issue #16): what a hostile anonymous client, a hostile peer
hub, or a party handing an auditor files sends — each row a finding that was fixed (the answer is a
4xx that names it and changes nothing, never a 500, a hang or unbounded work)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.client import Refused
from hub.database import Database
from hub.keystore import KeyStore
from hub.log.changes import record_change
from hub.settings import Settings
from hub.tlog.checkpoints import CheckpointService
from hub.witness.collector import collect, hub_policy, peer_witness_lines
from hub.witness.monitor import PeerMonitor
from hub.witness.repository import WitnessRepository
from hub.witness.service import SIZE_MEDIA_TYPE as SIZE
from hub.witness.service import Witness, WitnessedLogs, trust_log
from schemas.jws import sign_record
from tests.federation.two_hubs import TwoHubs
from tests.federation.witness_hubs import FakeLog
from transparency.checkpoint import Checkpoint, CheckpointError
from transparency.note import COSIGNATURE_V1, Signer, b64, parse_vkey
from transparency.proof import ProofError, parse_proof
from transparency.tiles import TileError, parse_tile_path
from transparency.witness import WitnessError, parse_add_checkpoint

ORIGIN = "gd.hub.test/log"
ADD = "/witness/add-checkpoint"
HUGE = "9" * 5000  # over Python's 4300-digit int() limit: int() raises a bare ValueError


@dataclass(frozen=True)
class Body:
    name: str
    body: Callable[[FakeLog], bytes]
    status: int


def _huge_size_note(log: FakeLog) -> bytes:
    text = log.checkpoint(5).text().replace("\n5\n", f"\n{HUGE}\n", 1)
    return f"old 0\n\n{text}\n{log.signer.sign(text).line()}".encode()


def _size_over_2_63(log: FakeLog) -> bytes:
    text = log.checkpoint(5).text().replace("\n5\n", f"\n{1 << 63}\n", 1)
    return f"old 0\n\n{text}\n{log.signer.sign(text).line()}".encode()


BODIES = [
    # finding: an old size of thousands of digits was a 500 (int() past the digit limit)
    Body(
        "old size of 5000 digits",
        lambda log: log.request(0, 5).replace(b"old 0", f"old {HUGE}".encode()),
        400,
    ),
    # finding: a validly signed checkpoint whose size has thousands of digits was a 500
    Body("checkpoint size of 5000 digits", _huge_size_note, 400),
    Body("checkpoint size 2^63", _size_over_2_63, 400),
]


@pytest.mark.parametrize("row", BODIES, ids=[row.name for row in BODIES])
def test_add_checkpoint_refuses_oversized_decimals(row: Body, client: TestClient, database: Database) -> None:
    log = FakeLog(ORIGIN, 12)
    with database.unit_of_work() as session:
        trust_log(session, log.origin, [log.vkey], "test", base_url="http://gd.hub.test")
    answer = client.post(ADD, content=row.body(log), headers={"content-type": "text/plain"})
    assert answer.status_code == row.status, answer.text
    assert answer.json()["code"] == "7020"
    with database.unit_of_work() as session:
        assert WitnessRepository(session).latest(ORIGIN) is None


def test_pure_parsers_refuse_oversized_decimals_with_their_own_errors() -> None:
    log = FakeLog(ORIGIN, 6)
    with pytest.raises(WitnessError):
        parse_add_checkpoint(log.request(0, 5).replace(b"old 0", f"old {HUGE}".encode()))
    with pytest.raises(CheckpointError):
        Checkpoint.parse(f"{ORIGIN}\n{HUGE}\n{'A' * 43}=\n")
    with pytest.raises(TileError):
        parse_tile_path("tile/0/" + "x001/" * 1500 + "001")
    proof = f"c2sp.org/tlog-proof@v1\nindex {HUGE}\n\n{log.note(5).render()}"
    with pytest.raises(ProofError):
        parse_proof(proof)


def test_a_tile_index_of_thousands_of_digits_is_a_404(client: TestClient) -> None:
    # finding: tile/0/x001/x001/.../001 (1500 groups) was a 500
    answer = client.get("/log/tile/0/" + "x001/" * 1500 + "001")
    assert answer.status_code == 404, answer.text
    assert answer.json()["code"] == "7012"


def test_the_monitor_reads_a_peers_consistency_proof_up_to_its_cap(
    database: Database, settings: Settings
) -> None:
    # finding: when a monitored peer served no tiles, its /v1/log/proofs/consistency answer was read
    # whole (httpx.Client.get) before its size was checked: a hostile peer streaming gigabytes
    # filled the worker's memory. Now it is read like the checkpoint and tiles, up to the cap.
    log = FakeLog(ORIGIN, 12)
    with database.unit_of_work() as session:
        trust_log(session, log.origin, [log.vkey], "test", base_url="http://gd.hub.test")
        keystore = KeyStore(settings.resolved_keys_dir)
        assert Witness(session, settings, keystore).add_checkpoint(log.request(0, 5)).status == 200
    sent: list[int] = []

    def endless() -> Iterator[bytes]:
        for _ in range(64):
            sent.append(1)
            yield b"[" * (64 * 1024)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/log/checkpoint":
            return httpx.Response(200, content=log.note(9).render().encode())
        if request.url.path == "/v1/log/proofs/consistency":
            return httpx.Response(200, content=endless())
        return httpx.Response(404)

    monitor = PeerMonitor(database, settings, keystore, transport=httpx.MockTransport(answer))
    try:
        outcome = monitor.check(ORIGIN, "http://gd.hub.test")
    finally:
        monitor.close()
    assert outcome.status == "unreachable", outcome
    assert len(sent) <= 3  # never the 4 MiB the peer offered
    with database.unit_of_work() as session:
        assert int(WitnessRepository(session).latest(ORIGIN).size) == 5  # type: ignore[union-attr]


@dataclass(frozen=True)
class Shadow:
    name: str
    witness_name: Callable[[str], str]  # from the honest peer's witness key name


SHADOWS = [
    # registered under an origin that sorts first, its line came first and the honest peer's key
    # (same name) was dropped from the policy: the hostile peer cosigned in its place
    Shadow("the honest peer's witness name", lambda honest: honest),
    # "<name>~2" is how a peer's second key is named: it joined the honest peer's group ("any"),
    # so the hostile peer's cosignature alone met the honest peer's share of the quorum
    Shadow("a rotation suffix of it", lambda honest: f"{honest}~2"),
    Shadow("any name with '~'", lambda honest: "evil~witness"),
]


@pytest.mark.parametrize("row", SHADOWS, ids=[row.name for row in SHADOWS])
def test_a_peer_cannot_take_another_peers_witness_name(peered: TwoHubs, row: Shadow) -> None:
    from transparency.note import COSIGNATURE_V1, Signer

    yrd, gd = peered.yrd, peered.gd
    honest = parse_vkey(gd.identity()["witness_vkeys"][0])
    evil = FakeLog("a-evil.hub.test/log")
    document = {
        **gd.identity(),
        "origin": evil.origin,
        "base_url": "http://evil.hub.test",
        "log_vkeys": [evil.vkey],
        "witness_vkeys": [
            Signer(row.witness_name(honest.name), Ed25519PrivateKey.generate(), COSIGNATURE_V1).verifier.vkey
        ],
        "registries": ["EVIL"],
    }
    admin = yrd.as_client("admin-1")
    with pytest.raises(Refused) as refused:
        admin.post("/v1/peers", document)
    assert refused.value.code == "1056"
    assert [e.get("pointer") for e in refused.value.errors] == ["/witness_vkeys/0"]
    assert [peer["origin"] for peer in admin.get("/v1/peers")] == [gd.origin]
    with yrd.database.unit_of_work() as session:
        policy = hub_policy(yrd.settings, peer_witness_lines(session))
    assert [verifier.public for verifier, _ in policy.witnesses.values()] == [honest.public]


def test_a_hostile_witness_raises_one_alarm_however_it_words_its_refusals(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    # finding: the collector kept an alarm (an evidence row and a log entry) once per distinct
    # answer body and old size: a witness refusing every checkpoint with a 422 worded anew each
    # time, or after naming a new old size in a 409, added an entry to OUR log per checkpoint,
    # which made the next checkpoint to refuse — one alarm and one log entry per interval, without
    # end. A witness's unsigned report now raises one alarm per witness and kind.
    keystore = KeyStore(settings.resolved_keys_dir)
    cosigner = Signer("hostile.example/w", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
    policy = tmp_path / "witnesses.policy"
    policy.write_text(f"witness H {cosigner.verifier.vkey} http://hostile.test\nquorum H\n")
    settings = settings.model_copy(update={"witness_policy": policy})
    asked: list[int] = []

    def hostile(request: httpx.Request) -> httpx.Response:
        # first "I cosigned size k" (k new each round, never above our size), then "split view"
        asked.append(1)
        if len(asked) % 2:
            return httpx.Response(409, text=f"{len(asked) // 2 + 1}\n", headers={"content-type": SIZE})
        return httpx.Response(422, json={"title": "split view", "detail": f"refusal {len(asked)}"})

    for round_ in range(3):
        with database.unit_of_work() as session:
            record_change(session, "test.grown", subject=("test", str(round_)), actor="test")
        with database.unit_of_work() as session:
            checkpoint = CheckpointService(session, settings, keystore).advance()
        collect(database, settings, keystore, checkpoint, transport=httpx.MockTransport(hostile))
    with database.unit_of_work() as session:
        alarms = WitnessedLogs(session).alarms(open_only=False)
    assert [(alarm.kind, alarm.reporter) for alarm in alarms] == [("inconsistent-proof", "hostile.example/w")]


@dataclass(frozen=True)
class Malformed:
    name: str
    change: Callable[[dict[str, Any]], None]


def _pop(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda certificate: certificate.pop(name)


def _set(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda certificate: certificate.__setitem__(name, value)


MALFORMED_CERTIFICATES = [
    # finding: a decision whose certificate the peer signed but that is no certificate (fields the
    # recognition does not name missing or of another type) was a 500 at the origin's hub
    Malformed("without log_index", _pop("log_index")),
    Malformed("without converted_quantity", _pop("converted_quantity")),
    Malformed("issuer a string", _set("issuer", "gd")),
    Malformed("log_index a string", _set("log_index", "seven")),
    Malformed("approved_by not a list", _set("approved_by", 7)),
]


@pytest.mark.parametrize("row", MALFORMED_CERTIFICATES, ids=[row.name for row in MALFORMED_CERTIFICATES])
def test_a_peer_signed_decision_with_a_malformed_certificate_is_refused(
    peered: TwoHubs, row: Malformed
) -> None:
    from tests.federation.test_crosshub_recognition import _decided, _post, _refusal

    yrd, gd, network = peered.yrd, peered.gd, peered.network
    pending, body = _decided(peered)
    path = f"/federation/v1/recognitions/{pending['id']}/decision"
    forged = copy.deepcopy(body)
    row.change(forged["certificate"])
    forged["jws"] = sign_record(forged["certificate"], gd.keystore.active(), typ="puhui-certificate+jws")
    status, code = _refusal(lambda: _post(gd, yrd, path, forged, network))
    assert status == 422 and code is not None
    assert yrd.as_client("js").get(f"/v1/recognitions/{pending['id']}")["status"] == "pending_review"


def test_one_hubs_proof_handed_twice_does_not_pass_for_both_logs(peered: TwoHubs, tmp_path: Path) -> None:
    # finding: `puhui certificates verify` took the GD proof copied as yrd.tlog-proof for the YRD
    # log's: every proof verified, so the file "proved" both logs include the certificate when
    # only one was shown. Two proofs of one log are refused now.
    from hub.cli.main import app as cli
    from tests.federation.test_federation_acceptance import recognized_in_guangdong, save_bundle

    args = save_bundle(peered, recognized_in_guangdong(peered), tmp_path)
    assert CliRunner().invoke(cli, args).exit_code == 0
    (tmp_path / "yrd.tlog-proof").write_bytes((tmp_path / "gd.tlog-proof").read_bytes())
    twice = CliRunner().invoke(cli, args)
    assert twice.exit_code != 0, twice.output
    assert "two proofs of the log gd.hub.test/log" in twice.output


@pytest.mark.parametrize("base_url", ["http://user:secret@z.hub.test", "https://token@z.hub.test/hub"])
def test_a_peer_base_url_with_credentials_is_refused(peered: TwoHubs, base_url: str) -> None:
    # finding (careless integrator): a peer registered at http://user:secret@host had its
    # credentials published in GET /log/policy (the witness's submission URL) and /v1/peers
    yrd, gd = peered.yrd, peered.gd
    log = FakeLog("z.hub.test/log")
    witness = Signer("z.hub.test/witness", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
    document = {
        **gd.identity(),
        "origin": log.origin,
        "base_url": base_url,
        "log_vkeys": [log.vkey],
        "witness_vkeys": [witness.verifier.vkey],
        "registries": ["ZZ"],
    }
    admin = yrd.as_client("admin-1")
    with pytest.raises(Refused) as refused:
        admin.post("/v1/peers", document)
    assert refused.value.code == "7026"
    assert [peer["origin"] for peer in admin.get("/v1/peers")] == [gd.origin]
    assert "secret" not in yrd.client.get("/log/policy").text
    assert "token" not in yrd.client.get("/log/policy").text


def test_a_slow_peer_has_a_budget_per_check_not_per_fetch(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # finding: the monitor bounded each fetch (twice the timeout) but not a log's check: a peer
    # claiming a tree of 2^63-1 and answering its checkpoint and each tile of the consistency
    # proof (about a dozen) just inside the deadline held the monitor — which checks the logs one
    # after another — for minutes per round, every other peer unmonitored meanwhile. A log's check
    # has a budget now (CHECK_BUDGET timeouts). The clock is fake: each look at it is 4 s later
    # (the timeout is 5 s: every single fetch is within its own deadline).
    import hub.witness.monitor as monitor_module
    from transparency.tiles import parse_tile_path

    clock = iter(range(0, 4 * 10**6, 4))
    monkeypatch.setattr(monitor_module.time, "monotonic", lambda: float(next(clock)))
    log = FakeLog(ORIGIN, 12)
    with database.unit_of_work() as session:
        trust_log(session, log.origin, [log.vkey], "test", base_url="http://gd.hub.test")
        keystore = KeyStore(settings.resolved_keys_dir)
        assert Witness(session, settings, keystore).add_checkpoint(log.request(0, 5)).status == 200
    huge = Checkpoint(ORIGIN, (1 << 63) - 1, bytes(32))
    tiles: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/log/checkpoint":
            text = huge.text()
            return httpx.Response(200, content=f"{text}\n{log.signer.sign(text).line()}".encode())
        if request.url.path.startswith("/log/tile/"):
            tiles.append(request.url.path)
            return httpx.Response(200, content=bytes(32 * parse_tile_path(request.url.path[5:]).width))
        return httpx.Response(404)

    monitor = PeerMonitor(database, settings, keystore, transport=httpx.MockTransport(answer))
    try:
        outcome = monitor.check(ORIGIN, "http://gd.hub.test")
    finally:
        monitor.close()
    assert settings.witness_timeout == 5
    assert outcome.status == "unreachable", (outcome, tiles)
    assert 0 < len(tiles) <= 4


def _signed_request(
    log: FakeLog, size: int, root: bytes, old: int = 0, proof: tuple[bytes, ...] = ()
) -> bytes:
    text = Checkpoint(log.origin, size, root).text()
    head = "".join(f"old {old}\n" + "".join(f"{b64(node)}\n" for node in proof))
    return f"{head}\n{text}\n{log.signer.sign(text).line()}".encode()


def test_a_tree_beyond_json_integers_is_refused_so_its_fork_cannot_hide(
    client: TestClient, database: Database
) -> None:
    # finding: the witness cosigned and stored a checkpoint of size 2^60 (valid: below 2^63), but
    # the split-view event of a later fork at that size could not be logged (its sizes are JSON
    # numbers; the log's canonical JSON holds integers up to 2^53): a 500, the evidence rolled
    # back with it — a log could fork unseen by keeping its tree size above 2^53. The witness
    # refuses such trees (400 7020): it never cosigned one, so there is no fork of one to keep.
    log = FakeLog(ORIGIN, 12)
    with database.unit_of_work() as session:
        trust_log(session, log.origin, [log.vkey], "test", base_url="http://gd.hub.test")
    for size in (1 << 60, (1 << 53)):
        answer = client.post(
            ADD, content=_signed_request(log, size, bytes(32)), headers={"content-type": "text/plain"}
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["code"] == "7020"
    with database.unit_of_work() as session:
        assert WitnessRepository(session).latest(ORIGIN) is None
    largest = client.post(
        ADD, content=_signed_request(log, (1 << 53) - 1, bytes(32)), headers={"content-type": "text/plain"}
    )
    assert largest.status_code == 200, largest.text
    fork = client.post(
        ADD,
        content=_signed_request(log, (1 << 53) - 1, bytes([1]) * 32, old=(1 << 53) - 1),
        headers={"content-type": "text/plain"},
    )
    assert fork.status_code == 409 and fork.json()["code"] == "7024"
    with database.unit_of_work() as session:
        (alarm,) = WitnessedLogs(session).alarms()
    assert alarm.stored_size == alarm.refused_size == (1 << 53) - 1


@dataclass(frozen=True)
class Answer:
    name: str
    chunk: bytes
    step: int  # seconds of the fake clock per look


PEER_ANSWERS = [
    # finding: the cross-hub worker (in the hub's process) read a peer's answer whole — a peer
    # streaming gigabytes filled the hub's memory
    Answer("endless", b"[" * (1 << 20), 0),
    # finding: each read had a timeout, the answer none — a peer trickling a byte per read held the
    # worker, and every other peer's messages behind it, for as long as it liked
    Answer("trickling", b" ", 1),
]


@pytest.mark.parametrize("row", PEER_ANSWERS, ids=[row.name for row in PEER_ANSWERS])
def test_a_peers_answer_is_read_up_to_a_cap_and_a_deadline(
    row: Answer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from hub.peering.client import PeerCallFailed, PeerClient

    clock = iter(range(0, row.step * 10**6 + 1, row.step or 1))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(clock)) if row.step else 0.0)
    sent: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        def body() -> Iterator[bytes]:
            for _ in range(200):
                sent.append(1)
                yield row.chunk

        return httpx.Response(200, content=body())

    client = PeerClient(
        "http://gd.hub.test", issuer="yrd.hub.test/log", audience="gd.hub.test/log",
        keystore=KeyStore(tmp_path / "keys"), transport=httpx.MockTransport(answer), timeout=5.0,
    )  # fmt: skip
    try:
        with pytest.raises(PeerCallFailed) as failed:
            client.post("/federation/v1/hello", {"hello": 1}, jti="j1")
    finally:
        client.close()
    assert failed.value.retryable and failed.value.status is None
    assert len(sent) <= 12


ENTRIES = [
    # finding: an entry (in a log the auditor trusts, so a hostile hub's) whose subject or data is
    # no object, or nested past the parser's depth, was a traceback of `certificates verify`
    ("subject a string", {"type": "recognition.approved", "subject": "RC-1", "data": {}}),
    ("data a list", {"type": "recognition.approved", "subject": {"id": "RC-1"}, "data": []}),
    ("nested deep", None),
]


@pytest.mark.parametrize("entry", [row[1] for row in ENTRIES], ids=[row[0] for row in ENTRIES])
def test_the_offline_check_reads_any_entry_without_a_traceback(entry: dict[str, Any] | None) -> None:
    from hub.cli.certificates import entry_names_certificate

    data = b"[" * 100_000 if entry is None else json.dumps(entry).encode()
    problem = entry_names_certificate(data, {"certificate_id": "RC-1"}, "0" * 64)
    assert problem is not None


def test_a_signed_document_that_is_no_certificate_is_refused_without_a_traceback(tmp_path: Path) -> None:
    # finding: `certificates verify` of a document a trusted key signed but that lacks the
    # certificate's ruleset (or quantities, or approvers) ended in a KeyError traceback
    from hub.cli.main import app as cli

    keystore = KeyStore(tmp_path / "keys")
    document = {"certificate_id": "RC-1", "quantity": 1, "approved_by": ["x"]}
    (tmp_path / "certificate.jws").write_text(
        sign_record(document, keystore.active(), typ="puhui-certificate+jws")
    )
    (tmp_path / "jwks.json").write_text(json.dumps(keystore.jwks()))
    result = CliRunner().invoke(
        cli,
        ["certificates", "verify", str(tmp_path / "certificate.jws"), "--jwks", str(tmp_path / "jwks.json")],
    )
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "no recognition certificate" in result.output
