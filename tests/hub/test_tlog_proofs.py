"""Offline proofs (c2sp.org/tlog-proof) of certificates, transfer completions and retirements, and
``puhui certificates verify --proof --policy`` checking them with the network cut."""

from __future__ import annotations

import base64
import json
import socket
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.cli.main import app as cli
from hub.client import PlatformClient
from hub.client.errors import HubProblem as ClientError
from hub.keystore import KeyStore
from hub.recognition.certificates import CERTIFICATE_TYPE, certificate_digest
from hub.tlog.checkpointer import sign_checkpoint
from schemas.canonical import canonicalize
from schemas.jws import sign_record
from tests.hub.conftest import example, platform_client, run_worker
from transparency.checkpoint import Checkpoint
from transparency.merkle import inclusion_ranges, leaf_hash, range_hash, root_from_leaves
from transparency.note import COSIGNATURE_V1, Signer, sign_note
from transparency.policy import parse_policy
from transparency.proof import make_proof, parse_proof, verify_proof


def sign(database, settings):
    return sign_checkpoint(database, settings, KeyStore(settings.resolved_keys_dir))


def _request(request_id: str, start: int, end: int) -> dict:
    request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
    request["request_id"] = request_id
    request["blocks"][0].update({"start": start, "end": end, "quantity": end - start + 1})
    request["quantity"] = end - start + 1
    return request


def recognize(jiangsu: PlatformClient, as_client, request_id: str, start: int, end: int) -> dict:
    pending = jiangsu.post(
        "/v1/recognitions", {"request": _request(request_id, start, end), "verified_emissions": 20000}
    )
    as_client("operator-sh").post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "meets the rules"}
    )
    return pending


@pytest.fixture
def cut_network(monkeypatch: pytest.MonkeyPatch):
    """No connection can be made, and no httpx transport sends anything."""

    def refuse(*args, **kwargs):
        raise AssertionError("the offline verification used the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", refuse)


@dataclass
class Bundle:
    """What an auditor saved from the hub, to verify later with no network."""

    folder: Path
    certificate: dict
    answer: dict

    def path(self, name: str) -> str:
        return str(self.folder / name)


@pytest.fixture
def saved(client: TestClient, jiangsu, as_client, database, settings, tmp_path: Path) -> Bundle:
    pending = recognize(jiangsu, as_client, "RR-2026-0001", 100001, 100120)
    proof_path = f"/v1/recognitions/{pending['id']}/certificate/proof"
    with pytest.raises(ClientError) as early:
        jiangsu.request("GET", proof_path)
    assert early.value.status == 409
    assert early.value.problem["code"] == "7014"
    sign(database, settings)
    answer = jiangsu.get(f"/v1/recognitions/{pending['id']}/certificate")
    proof = jiangsu.request("GET", proof_path)
    assert proof.headers["content-type"] == "text/plain; charset=utf-8"
    certificate_id = answer["certificate"]["certificate_id"]
    assert proof.headers["content-disposition"] == f'attachment; filename="{certificate_id}.tlog-proof"'
    (tmp_path / "certificate.json").write_text(json.dumps(answer))
    (tmp_path / "jwks.json").write_text(json.dumps(client.get("/.well-known/jwks.json").json()))
    (tmp_path / "hub.policy").write_text(client.get("/log/policy").text)
    (tmp_path / "certificate.tlog-proof").write_bytes(proof.content)
    return Bundle(tmp_path, answer["certificate"], answer)


def verify(bundle: Bundle, *extra: str, proof: str = "certificate.tlog-proof", policy: str = "hub.policy"):
    args = ["certificates", "verify", bundle.path("certificate.json"), "--jwks", bundle.path("jwks.json")]
    args += ["--proof", bundle.path(proof), "--policy", bundle.path(policy), *extra]
    return CliRunner().invoke(cli, args)


def test_a_certificate_and_its_proof_verify_offline(saved: Bundle, cut_network, settings) -> None:
    result = verify(saved)
    assert result.exit_code == 0, result.output
    assert f"valid certificate {saved.certificate['certificate_id']}" in result.output
    index = saved.certificate["log_index"]
    assert f"included in {settings.log_origin} at index {index} of" in result.output
    assert "(witnesses: none)" in result.output


def test_the_proof_is_the_tlog_proof_of_the_certificates_entry(saved: Bundle, client: TestClient) -> None:
    proof = parse_proof(Path(saved.path("certificate.tlog-proof")).read_bytes())
    assert proof.index == saved.certificate["log_index"]
    logged = client.get("/v1/log/entries", params={"start": proof.index, "end": proof.index + 1}).json()
    assert proof.extra == base64.b64decode(logged[0]["entry_b64"])
    assert proof.checkpoint.render() == client.get("/log/checkpoint").text  # verbatim
    verify_proof(proof, None, parse_policy(client.get("/log/policy").text))


def _forged(bundle: Bundle) -> None:
    header, payload, signature = bundle.answer["jws"].split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["converted_quantity"] = 840
    forged = base64.urlsafe_b64encode(canonicalize(body)).rstrip(b"=").decode()
    (bundle.folder / "certificate.json").write_text(
        json.dumps({**bundle.answer, "jws": f"{header}.{forged}.{signature}"})
    )


def _signed_by_the_hub_but_not_logged(bundle: Bundle, settings) -> None:
    """The hub's key signs a certificate whose digest is not the logged one (a hub lying)."""
    other = {**bundle.certificate, "converted_quantity": 840}
    token = sign_record(other, KeyStore(settings.resolved_keys_dir).active(), typ=CERTIFICATE_TYPE)
    signatures = [{**signature, "jws": token} for signature in bundle.answer["signatures"]]
    lying = {**bundle.answer, "jws": token, "signatures": signatures}
    (bundle.folder / "certificate.json").write_text(json.dumps(lying))


def _proof_of_another_entry(bundle: Bundle, jiangsu, as_client, database, settings) -> None:
    other = recognize(jiangsu, as_client, "RR-2026-0002", 100200, 100250)
    sign(database, settings)
    proof = jiangsu.request("GET", f"/v1/recognitions/{other['id']}/certificate/proof").content
    (bundle.folder / "certificate.tlog-proof").write_bytes(proof)


def _policy_of_another_key(bundle: Bundle, settings) -> None:
    stranger = Signer(settings.log_origin, Ed25519PrivateKey.generate()).verifier
    (bundle.folder / "hub.policy").write_text(f"log {stranger.vkey}\nquorum none\n")


def _quorum_not_met(bundle: Bundle, settings) -> None:
    witness = Signer("w.example/witness", Ed25519PrivateKey.generate(), COSIGNATURE_V1).verifier
    text = Path(bundle.path("hub.policy")).read_text().replace("quorum none\n", "")
    (bundle.folder / "hub.policy").write_text(f"{text}witness w1 {witness.vkey}\nquorum w1\n")


def _path_altered(bundle: Bundle, settings) -> None:
    proof = parse_proof(Path(bundle.path("certificate.tlog-proof")).read_bytes())
    moved = make_proof(proof.index, [bytes(32), *proof.path[1:]], proof.checkpoint, proof.extra)
    (bundle.folder / "certificate.tlog-proof").write_text(moved.render())


def _entry_altered(bundle: Bundle, settings) -> None:
    proof = parse_proof(Path(bundle.path("certificate.tlog-proof")).read_bytes())
    assert proof.extra is not None
    changed = proof.extra.replace(b'"recognition.approved"', b'"recognition.approvee"')
    (bundle.folder / "certificate.tlog-proof").write_text(
        make_proof(proof.index, proof.path, proof.checkpoint, changed).render()
    )


@dataclass(frozen=True)
class Tamper:
    name: str
    apply: str
    expected: str


TAMPERS = [
    Tamper("a tampered certificate", "forged", "[1011]"),
    Tamper("a certificate the log does not hold", "unlogged", "not this certificate's"),
    Tamper("a proof of another entry", "other", "the proof's entry is about"),
    Tamper("a checkpoint signed by another key", "stranger", "no signature by a known key"),
    Tamper("a policy whose quorum is not met", "quorum", "the witness quorum w1 is not met"),
    Tamper("an altered inclusion path", "path", "is not at index"),
    Tamper("an altered entry", "entry", "is not at index"),
]


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda t: t.name)
def test_offline_verification_refuses(
    saved: Bundle, tamper: Tamper, jiangsu, as_client, database, settings, monkeypatch
) -> None:
    if tamper.apply == "forged":
        _forged(saved)
    elif tamper.apply == "unlogged":
        _signed_by_the_hub_but_not_logged(saved, settings)
    elif tamper.apply == "other":
        _proof_of_another_entry(saved, jiangsu, as_client, database, settings)
    elif tamper.apply == "stranger":
        _policy_of_another_key(saved, settings)
    elif tamper.apply == "quorum":
        _quorum_not_met(saved, settings)
    elif tamper.apply == "path":
        _path_altered(saved, settings)
    else:
        _entry_altered(saved, settings)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", None)  # the network is cut
    result = verify(saved)
    assert result.exit_code == 1, result.output
    assert tamper.expected in result.output


def test_a_proof_needs_a_policy(saved: Bundle) -> None:
    args = ["certificates", "verify", saved.path("certificate.json"), "--jwks", saved.path("jwks.json")]
    result = CliRunner().invoke(cli, [*args, "--proof", saved.path("certificate.tlog-proof")])
    assert result.exit_code == 1
    assert "--policy" in result.output


def test_proofs_are_read_only_by_those_who_read_the_object(saved: Bundle, as_client) -> None:
    recognition = saved.certificate["certificate_id"].removeprefix("RC-")
    with pytest.raises(ClientError) as hidden:
        as_client("zj").request("GET", f"/v1/recognitions/{recognition}/certificate/proof")
    assert hidden.value.status == 404
    assert as_client("operator-sh").request("GET", f"/v1/recognitions/{recognition}/certificate/proof")


def test_a_retirement_has_a_proof(jiangsu, as_client, database, settings, client: TestClient) -> None:
    record = {
        "retirement_id": "RT-1",
        "registry": "JS",
        "blocks": [
            {
                "block_id": "JS-B-2025-000001",
                "namespace": "JS",
                "start": 100101,
                "end": 100150,
                "quantity": 50,
                "unit": "tCO2e",
            }
        ],
        "quantity": 50,
        "unit": "tCO2e",
        "purpose": {"kind": "voluntary-neutralization", "event": "a 2026 conference in Kunshan"},
        "beneficiary": {"registry": "JS", "account_id": "JS-A-EVENT-1"},
    }
    retired = jiangsu.post("/v1/retirements", record)
    sign(database, settings)
    answer = jiangsu.request("GET", "/v1/retirements/RT-1/proof")
    assert answer.headers["content-disposition"] == 'attachment; filename="RT-1.tlog-proof"'
    checked = verify_proof(answer.text, None, parse_policy(client.get("/log/policy").text))
    assert checked.proof is not None and checked.proof.index == retired["log_index"]
    assert json.loads(checked.proof.extra or b"")["subject"] == {"kind": "retirement", "id": "RT-1"}
    with pytest.raises(ClientError) as foreign:
        as_client("sh").request("GET", "/v1/retirements/RT-1/proof")
    assert foreign.value.status == 404


def test_a_transfer_completion_has_a_proof(hub, database, federation) -> None:
    client, settings = hub
    jiangsu = platform_client(hub, federation, "js")
    body = {
        "transfer_id": "TR-1",
        "destination": "SH",
        "to_account": {"registry": "SH", "account_id": "SH-A-1"},
        "blocks": [{"block_id": "JS-B-2025-000001", "namespace": "JS"}],
    }
    jiangsu.request("POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": "k-1"})
    sign(database, settings)
    with pytest.raises(ClientError) as early:
        jiangsu.request("GET", "/v1/transfers/TR-1/proof")
    assert (early.value.status, early.value.problem["code"]) == (409, "7015")
    run_worker(hub, database)
    assert jiangsu.get("/v1/transfers/TR-1")["state"] == "completed"
    with pytest.raises(ClientError) as unsigned:
        jiangsu.request("GET", "/v1/transfers/TR-1/proof")
    assert (unsigned.value.status, unsigned.value.problem["code"]) == (409, "7014")
    assert unsigned.value.problem.get("status") == 409
    sign(database, settings)
    answer = jiangsu.request("GET", "/v1/transfers/TR-1/proof")
    checked = verify_proof(answer.text, None, parse_policy(client.get("/log/policy").text))
    assert checked.proof is not None
    event = json.loads(checked.proof.extra or b"")
    assert (event["type"], event["subject"]["id"]) == ("transfer.completed", "TR-1")
    with pytest.raises(ClientError) as foreign:
        platform_client(hub, federation, "zj").request("GET", "/v1/transfers/TR-1/proof")
    assert foreign.value.status == 404


def test_a_certificate_of_two_hubs_verifies_with_both_proofs(
    saved: Bundle, tmp_path: Path, cut_network
) -> None:
    """Cross-hub recognition: a second hub countersigns the same certificate and logs it in its own
    log; one policy lists both logs; --jwks and --proof are given once per hub."""
    second = KeyStore(tmp_path / "second-keys")
    token = sign_record(saved.certificate, second.active(), typ=CERTIFICATE_TYPE)
    (tmp_path / "second-jwks.json").write_text(json.dumps(second.jwks()))
    (tmp_path / "certificate.json").write_text(
        json.dumps({**saved.answer, "jws": [saved.answer["jws"], token]})
    )
    origin = "gd.example/log"
    entries = [b'{"log_index":0}', b'{"log_index":1}']
    event = {
        "event_id": "evt-2",
        "log_index": 2,
        "type": "recognition.approved",
        "subject": {"kind": "recognition-certificate", "id": saved.certificate["certificate_id"]},
        "data": {"certificate_digest": certificate_digest(saved.certificate)},
    }
    entries.append(canonicalize(event))
    leaves = [leaf_hash(e) for e in entries]
    stored = {(0, i): leaf for i, leaf in enumerate(leaves)}
    stored[(1, 0)] = root_from_leaves(leaves[:2])
    path = [range_hash(a, b, stored) for a, b in inclusion_ranges(2, 3)]
    log_key = Signer(origin, Ed25519PrivateKey.generate())
    witness = Signer("yrd.example/witness", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
    text = Checkpoint(origin, 3, root_from_leaves(leaves)).text()
    note = sign_note(text, [log_key]).with_signatures([witness.sign(text, timestamp=1_700_000_000)])
    (tmp_path / "second.tlog-proof").write_text(make_proof(2, path, note, entries[2]).render())
    ours = Path(saved.path("hub.policy")).read_text().replace("quorum none\n", "")
    both = f"{ours}log {log_key.verifier.vkey}\nquorum none\n"
    (tmp_path / "both.policy").write_text(both)
    args = ["certificates", "verify", str(tmp_path / "certificate.json")]
    args += ["--jwks", saved.path("jwks.json"), "--jwks", str(tmp_path / "second-jwks.json")]
    args += ["--proof", saved.path("certificate.tlog-proof"), "--proof", str(tmp_path / "second.tlog-proof")]
    result = CliRunner().invoke(cli, [*args, "--policy", str(tmp_path / "both.policy")])
    assert result.exit_code == 0, result.output
    assert "included in gd.example/log at index 2 of 3" in result.output
    assert result.output.count("valid certificate") == 2
    # the first hub's policy alone does not trust the second log
    alone = CliRunner().invoke(cli, [*args, "--policy", saved.path("hub.policy")])
    assert alone.exit_code == 1 and "second.tlog-proof" in alone.output
