"""Issue #16's acceptance, end to end across two hubs (each its own database; both backends):
a Jiangsu credit of the YRD hub is recognized for use in Guangdong, approved in the GD hub, and
its certificate — signed by both hubs, logged in both logs, each checkpoint cosigned by the other
hub's witness — verifies offline with the network cut; the same bundle with a hub's proof
tampered, or under a policy the other hub's witness did not satisfy, does not."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.cli.main import app as cli
from hub.tlog.checkpointer import sign_checkpoint
from hub.witness.collector import CosignatureCollector
from tests.federation.two_hubs import Hub, TwoHubs, kunshan_for_guangdong
from transparency.policy import parse_policy
from transparency.proof import parse_proof

APPROVE = {"decision": "approve", "reason": "meets the GD hub's rules"}


def checkpoint(hubs: TwoHubs, hub: Hub) -> None:
    """The hub's checkpointer round: sign, then collect its peer's cosignature over the network."""
    collector = CosignatureCollector(hub.database, hub.settings, hub.keystore, transport=hubs.network)
    try:
        sign_checkpoint(hub.database, hub.settings, hub.keystore, [collector])
    finally:
        collector.close()


def recognized_in_guangdong(peered: TwoHubs) -> str:
    pending = peered.yrd.as_client("js").post("/v1/recognitions", {"request": kunshan_for_guangdong()})
    peered.drain()
    peered.gd.as_client("operator-gd").post(f"/v1/recognitions/{pending['id']}/decision", APPROVE)
    peered.drain()
    recognition_id: str = pending["id"]
    return recognition_id


def save_bundle(peered: TwoHubs, recognition_id: str, folder: Path) -> list[str]:
    """What an auditor keeps: the certificate, each hub's JWKS, proof and policy; the CLI's args."""
    for hub in peered.hubs():
        checkpoint(peered, hub)
    for hub in peered.hubs():  # a second round: each hub now witnesses the other's latest
        checkpoint(peered, hub)
    js, operator = peered.yrd.as_client("js"), peered.gd.as_client("operator-gd")
    answer = js.get(f"/v1/recognitions/{recognition_id}/certificate")
    (folder / "certificate.json").write_text(json.dumps(answer))
    args = ["certificates", "verify", str(folder / "certificate.json")]
    for hub, reader in ((peered.yrd, js), (peered.gd, operator)):
        proof = reader.request("GET", f"/v1/recognitions/{recognition_id}/certificate/proof")
        (folder / f"{hub.name}.tlog-proof").write_bytes(proof.content)
        (folder / f"{hub.name}.jwks.json").write_text(
            json.dumps(hub.client.get("/.well-known/jwks.json").json())
        )
        (folder / f"{hub.name}.policy").write_text(hub.client.get("/log/policy").text)
        args += [
            "--jwks",
            str(folder / f"{hub.name}.jwks.json"),
            "--proof",
            str(folder / f"{hub.name}.tlog-proof"),
        ]
        args += ["--policy", str(folder / f"{hub.name}.policy")]
    return args


def test_a_jiangsu_credit_recognized_in_guangdong_verifies_offline_with_both_hubs_proofs(
    peered: TwoHubs, tmp_path: Path, monkeypatch
) -> None:
    recognition_id = recognized_in_guangdong(peered)
    args = save_bundle(peered, recognition_id, tmp_path)
    answer = json.loads((tmp_path / "certificate.json").read_text())
    assert {s["hub"]: s["role"] for s in answer["signatures"]} == {
        peered.gd.origin: "issuer",
        peered.yrd.origin: "countersigner",
    }
    for hub in peered.hubs():  # each hub's policy: its log, the other hub's witness, quorum peers
        policy = parse_policy((tmp_path / f"{hub.name}.policy").read_text())
        other = peered.other(hub)
        assert [v.name for v in policy.log_verifiers()] == [hub.origin]
        assert [v.name for v in policy.witness_verifiers()] == [
            other.origin.removesuffix("/log") + "/witness"
        ]
        proof = parse_proof((tmp_path / f"{hub.name}.tlog-proof").read_bytes())
        assert len(proof.checkpoint.signatures) == 2  # the log's own and the peer witness's

    cut_network_now(monkeypatch)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.count("valid certificate") == 2
    for hub in peered.hubs():
        witness = peered.other(hub).origin.removesuffix("/log") + "/witness"
        assert f"included in {hub.origin}" in result.output
        assert f"(witnesses: {witness})" in result.output


def test_the_offline_check_refuses_a_tampered_proof_or_an_unwitnessed_checkpoint(
    peered: TwoHubs, tmp_path: Path
) -> None:
    recognition_id = recognized_in_guangdong(peered)
    args = save_bundle(peered, recognition_id, tmp_path)
    gd_proof = tmp_path / "gd.tlog-proof"
    original = gd_proof.read_text()
    lines = original.split("\n")
    index_line = next(i for i, line in enumerate(lines) if line.startswith("index "))
    lines[index_line] = f"index {int(lines[index_line][6:]) + 1}"
    gd_proof.write_text("\n".join(lines))
    moved = CliRunner().invoke(cli, args)
    assert moved.exit_code != 0 and "gd.tlog-proof" in moved.output

    # the GD checkpoint without the YRD witness's cosignature: the GD policy's quorum is not met
    witness_line = next(
        line for line in original.split("\n") if line.startswith("\u2014 yrd.hub.test/witness")
    )
    gd_proof.write_text(original.replace(witness_line + "\n", ""))
    unwitnessed = CliRunner().invoke(cli, args)
    assert unwitnessed.exit_code != 0 and "quorum" in unwitnessed.output

    gd_proof.write_text(original)
    assert CliRunner().invoke(cli, args).exit_code == 0


def cut_network_now(monkeypatch) -> None:
    import socket

    import httpx

    def refuse(*args, **kwargs):
        raise AssertionError("the offline verification used the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", refuse)
