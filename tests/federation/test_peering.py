"""Peering: a hub's identity, its registration by administrators of both sides, and hub-to-hub
signed requests refused for every reason a hostile or misconfigured party gives."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli.main import app as cli
from hub.client import PermissionDenied, Refused
from hub.identity import witness_name
from hub.keystore import KeyStore
from hub.peering.client import PeerCallFailed, PeerClient
from hub.peering.models import jwks_of, log_verifiers_of, witness_verifiers_of
from hub.peering.repository import PeerRepository
from hub.peering.requests import HUB_SIGNATURE_HEADER, sign_hub_request
from schemas.canonical import canonicalize
from tests.federation.two_hubs import Hub, TwoHubs, problem_of
from transparency.note import COSIGNATURE_V1, ED25519, open_note, parse_vkey, sign_note

HELLO = "/federation/v1/hello"


def test_the_identity_names_the_origin_keys_and_registries(two_hubs: TwoHubs) -> None:
    from hub.identity import log_signers, witness_signers

    yrd = two_hubs.yrd
    document = yrd.identity()
    assert document["origin"] == "yrd.hub.test/log" == yrd.origin
    assert document["base_url"] == "http://127.0.0.1:8101"
    assert document["registries"] == ["AH", "CCER", "JS", "SH", "ZJ"]
    assert two_hubs.gd.identity()["registries"] == ["GD"]
    assert [k["kid"] for k in document["jwks"]["keys"]] == [yrd.keystore.active().kid]
    (log_key,) = [parse_vkey(v) for v in document["log_vkeys"]]
    (witness_key,) = [parse_vkey(v) for v in document["witness_vkeys"]]
    assert (log_key.name, log_key.signature_type) == ("yrd.hub.test/log", ED25519)
    assert (witness_key.name, witness_key.signature_type) == ("yrd.hub.test/witness", COSIGNATURE_V1)
    assert witness_name(yrd.origin) == witness_key.name
    # what the hub signs, its published vkeys verify
    note = sign_note("yrd.hub.test/log\n1\nAAAA\n", log_signers(yrd.settings, yrd.keystore))
    assert open_note(note.render(), [log_key]).names() == {"yrd.hub.test/log"}
    cosigner = witness_signers(yrd.settings, yrd.keystore)[0]
    assert witness_key.verify("x\n", cosigner.sign("x\n", timestamp=1))


def test_after_a_rotation_both_published_keys_are_in_the_identity(two_hubs: TwoHubs) -> None:
    yrd = two_hubs.yrd
    old = yrd.keystore.active().kid
    yrd.keystore.generate()
    document = yrd.identity()
    assert len(document["log_vkeys"]) == len(document["witness_vkeys"]) == 2
    assert {k["kid"] for k in document["jwks"]["keys"]} == {old, yrd.keystore.active().kid}


def test_administrators_of_both_sides_register_each_other(two_hubs: TwoHubs) -> None:
    on_yrd = two_hubs.register(two_hubs.yrd, two_hubs.gd)
    assert (on_yrd["origin"], on_yrd["registries"], on_yrd["status"]) == ("gd.hub.test/log", ["GD"], "active")
    assert on_yrd["registered_by"] == "admin-1"
    on_gd = two_hubs.register(two_hubs.gd, two_hubs.yrd)
    assert on_gd["registries"] == ["AH", "CCER", "JS", "SH", "ZJ"]
    admin = two_hubs.yrd.as_client("admin-2")
    assert [p["origin"] for p in admin.get("/v1/peers")] == ["gd.hub.test/log"]
    assert admin.get(f"/v1/peers/{on_yrd['id']}")["base_url"] == "http://127.0.0.1:8102"
    with two_hubs.yrd.database.unit_of_work() as session:  # what the witness and the checks use
        peer = PeerRepository(session).by_origin("gd.hub.test/log")
        assert peer is not None
        assert [v.vkey for v in log_verifiers_of(peer)] == two_hubs.gd.identity()["log_vkeys"]
        assert [v.vkey for v in witness_verifiers_of(peer)] == two_hubs.gd.identity()["witness_vkeys"]
        assert [k.kid for k in jwks_of(peer)] == [two_hubs.gd.keystore.active().kid]
    (logged,) = two_hubs.yrd.logged("peer.registered")
    assert logged["subject"] == {"kind": "hub-peer", "id": on_yrd["id"]}
    assert logged["data"]["origin"] == "gd.hub.test/log" and logged["data"]["actor"] == "admin-1"


@dataclass(frozen=True)
class BadPeering:
    name: str
    change: dict[str, Any]
    code: str
    pointer: str | None = None
    as_admin: bool = True
    extra: list[str] = field(default_factory=list)


BAD_PEERINGS = [
    BadPeering("log vkey not a vkey", {"log_vkeys": ["nonsense"]}, "2023", "/log_vkeys/0"),
    BadPeering("log vkey of another name", {"log_vkeys": "other-name"}, "2023", "/log_vkeys/0"),
    BadPeering("witness vkey given as log vkey", {"log_vkeys": "witness"}, "2023", "/log_vkeys/0"),
    BadPeering("log vkey given as witness vkey", {"witness_vkeys": "log"}, "2023", "/witness_vkeys/0"),
    BadPeering("a private key in the JWKS", {"jwks": "private"}, "1002", "/jwks/keys"),
    BadPeering("a registry served here", {"registries": ["GD", "JS"]}, "2022", "/registries/1"),
    BadPeering("not a registry code", {"registries": ["gd"]}, "1002", "/registries/0"),
    BadPeering("this hub's own origin", {"origin": "yrd.hub.test/log"}, "2022", "/origin"),
    BadPeering(
        "an address past its column", {"base_url": "https://gd.hub.test/" + "a" * 481}, "1002", "/base_url"
    ),
    BadPeering(  # 100 × é is 600 characters once percent-encoded, as the address is stored
        "an address past its column once encoded",
        {"base_url": "https://gd.hub.test/" + "é" * 100},
        "1002",
        "/base_url",
    ),
    BadPeering("not an administrator", {}, "1033", as_admin=False),
]


@pytest.mark.parametrize("case", BAD_PEERINGS, ids=lambda c: c.name)
def test_a_bad_peering_is_refused_and_changes_nothing(two_hubs: TwoHubs, case: BadPeering) -> None:
    from transparency.note import Signer

    gd = two_hubs.gd
    document = gd.identity()
    private = gd.keystore.active().private
    assert private is not None
    for key, value in case.change.items():
        if value == "other-name":
            value = [Signer("someone.else/log", private).verifier.vkey]
        elif value == "witness":
            value = document["witness_vkeys"]
        elif value == "log":
            value = document["log_vkeys"]
        elif value == "private":
            value = {"keys": [gd.keystore.active().private_jwk()]}
        document[key] = value
    client = two_hubs.yrd.as_client("admin-1" if case.as_admin else "operator-sh")
    with pytest.raises((Refused, PermissionDenied)) as refused:
        client.post("/v1/peers", document)
    assert refused.value.code == case.code
    if case.pointer:
        assert [e.get("pointer") for e in refused.value.errors] == [case.pointer]
    assert two_hubs.yrd.as_client("admin-1").get("/v1/peers") == []


def test_a_second_registration_of_one_origin_is_refused(peered: TwoHubs) -> None:
    with pytest.raises(Refused) as refused:
        peered.register(peered.yrd, peered.gd, admin="admin-2")
    assert refused.value.code == "2021"


def _hello(
    sender: Hub, receiver: Hub, network: Any, *, jti: str | None = None, body: Any = None
) -> dict[str, Any]:
    with PeerClient(
        receiver.settings.resolved_public_url,
        issuer=sender.origin,
        audience=receiver.origin,
        keystore=sender.keystore,
        transport=network,
    ) as client:
        return client.post(
            "/federation/v1/hello", body if body is not None else {}, jti=jti or str(uuid.uuid4())
        )


def test_peers_greet_each_other_with_signed_requests(peered: TwoHubs) -> None:
    answer = _hello(peered.yrd, peered.gd, peered.network, body={"note": "ni hao"})
    assert (answer["origin"], answer["peer"], answer["registries"]) == (
        "gd.hub.test/log",
        "yrd.hub.test/log",
        ["GD"],
    )
    back = _hello(peered.gd, peered.yrd, peered.network)
    assert back["peer"] == "gd.hub.test/log"


def test_a_retried_request_gets_the_same_answer_and_another_body_under_its_jti_is_a_replay(
    peered: TwoHubs,
) -> None:
    jti = str(uuid.uuid4())
    first = _hello(peered.yrd, peered.gd, peered.network, jti=jti, body={"note": "one"})
    assert _hello(peered.yrd, peered.gd, peered.network, jti=jti, body={"note": "one"}) == first
    with pytest.raises(PeerCallFailed) as replayed:
        _hello(peered.yrd, peered.gd, peered.network, jti=jti, body={"note": "two"})
    assert (replayed.value.status, replayed.value.problem["code"]) == (409, "1017")


@dataclass(frozen=True)
class Hostile:
    name: str
    status: int
    code: str


def _send(hub: Hub, body: bytes, signature: str | None, path: str = HELLO) -> tuple[int, str | None]:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers[HUB_SIGNATURE_HEADER] = signature
    return problem_of(hub.client.post(path, content=body, headers=headers))


def _sign(keystore: KeyStore, body: Any, **claims: Any) -> str:
    defaults: dict[str, Any] = {
        "issuer": "yrd.hub.test/log", "audience": "gd.hub.test/log", "method": "POST", "path": HELLO,
    }  # fmt: skip
    defaults.update(claims)
    return sign_hub_request(body, keystore, **defaults)


def test_hostile_hub_requests_are_refused(peered: TwoHubs, tmp_path: Path) -> None:
    gd, yrd = peered.gd, peered.yrd
    body = {"note": "hello"}
    raw = canonicalize(body)
    stranger = KeyStore(tmp_path / "stranger-keys")
    cases: list[tuple[str, bytes, str | None, tuple[int, str]]] = [
        ("no signature", raw, None, (401, "1060")),
        ("a platform's kind of signature", raw, "e30..c2ln", (401, "1060")),
        ("an unregistered hub", raw, _sign(stranger, body, issuer="stranger.test/log"), (401, "1061")),
        ("a registered origin, a stranger's key", raw, _sign(stranger, body), (401, "1012")),
        ("another audience", raw, _sign(yrd.keystore, body, audience="elsewhere.test/log"), (401, "1062")),
        ("another path", raw, _sign(yrd.keystore, body, path="/federation/v1/other"), (401, "1019")),
        ("a tampered body", canonicalize({"note": "HELLO"}), _sign(yrd.keystore, body), (401, "1011")),
        ("an old signature", raw, _sign(yrd.keystore, body, iat=int(time.time()) - 3600), (401, "1018")),
    ]
    for name, content, signature, expected in cases:
        assert _send(gd, content, signature) == expected, name


def test_a_suspended_peer_is_refused_until_reactivated_and_a_removed_one_is_unknown(peered: TwoHubs) -> None:
    admin = peered.gd.as_client("admin-gd")
    (peer,) = admin.get("/v1/peers")
    assert admin.post(f"/v1/peers/{peer['id']}/suspend", {})["status"] == "suspended"
    with pytest.raises(PeerCallFailed) as suspended:
        _hello(peered.yrd, peered.gd, peered.network)
    assert (suspended.value.status, suspended.value.problem["code"]) == (403, "2020")
    with pytest.raises(Refused) as again:
        admin.post(f"/v1/peers/{peer['id']}/suspend", {})
    assert again.value.code == "6002"
    assert admin.post(f"/v1/peers/{peer['id']}/reactivate", {})["status"] == "active"
    assert _hello(peered.yrd, peered.gd, peered.network)["peer"] == peered.yrd.origin
    assert admin.delete(f"/v1/peers/{peer['id']}")["status"] == "removed"
    assert admin.get("/v1/peers") == []
    with pytest.raises(PeerCallFailed) as removed:
        _hello(peered.yrd, peered.gd, peered.network)
    assert (removed.value.status, removed.value.problem["code"]) == (401, "1061")
    # registered again: the same row, active
    assert peered.register(peered.gd, peered.yrd)["id"] == peer["id"]


def test_the_cli_registers_lists_suspends_and_removes_peers(
    two_hubs: TwoHubs, cli_hub: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    saved = tmp_path / "gd.json"
    saved.write_text(json.dumps(two_hubs.gd.identity()))
    added = runner.invoke(cli, ["peers", "add", "--from-file", str(saved)])
    assert added.exit_code == 0, added.output
    assert "peered with gd.hub.test/log (GD)" in added.output
    twice = runner.invoke(cli, ["peers", "add", "--from-file", str(saved)])
    assert twice.exit_code == 1 and "2021" in twice.output
    listed = runner.invoke(cli, ["peers", "list"])
    assert "gd.hub.test/log" in listed.output and "active" in listed.output
    assert runner.invoke(cli, ["peers", "suspend", "gd.hub.test/log"]).exit_code == 0
    assert "suspended" in runner.invoke(cli, ["peers", "list"]).output
    assert runner.invoke(cli, ["peers", "remove", "gd.hub.test/log"]).exit_code == 0
    assert "gd.hub.test" not in runner.invoke(cli, ["peers", "list"]).output
    unknown = runner.invoke(cli, ["peers", "remove", "gd.hub.test/log"])
    assert unknown.exit_code == 1 and "2025" in unknown.output
    identity = runner.invoke(cli, ["peers", "identity"])
    assert json.loads(identity.output)["origin"] == "127.0.0.1:8000/log"
