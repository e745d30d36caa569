"""The hub's witness policy (a tlog-policy file plus the peers' witnesses) and what the collector
keeps of a witness's answer: only valid cosignatures by that witness's key, unknown keys ignored."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.database import Database
from hub.keystore import KeyStore
from hub.log.changes import record_change
from hub.settings import Settings
from hub.tlog.checkpoints import CheckpointService
from hub.witness.collector import COSIGNED, NO_URL, REFUSED, collect, hub_policy
from transparency.note import COSIGNATURE_V1, Signer
from transparency.policy import PolicyError


def _cosigner(name: str) -> Signer:
    return Signer(name, Ed25519PrivateKey.generate(), COSIGNATURE_V1)


W1, W2, W3 = _cosigner("w1.example/w"), _cosigner("w2.example/w"), _cosigner("w3.example/w")


def _settings(settings: Settings, tmp_path: Path, text: str | None) -> Settings:
    if text is None:
        return settings
    path = tmp_path / "witnesses.policy"
    path.write_text(text)
    return settings.model_copy(update={"witness_policy": path})


@dataclass(frozen=True)
class PolicyRow:
    name: str
    file: str | None
    peers: tuple[str, ...]
    witnesses: tuple[str, ...]
    quorum: str


POLICIES = [
    PolicyRow("no file, no peers", None, (), (), "none"),
    PolicyRow(
        "no file: every peer must cosign",
        None,
        (f"witness P {W1.verifier.vkey} http://p/witness",),
        ("P",),
        "peers",
    ),
    PolicyRow(
        "no file: a peer's rotated keys count once, for it",
        None,
        (
            f"witness P {W1.verifier.vkey} http://p/witness",
            f"witness P~2 {W2.verifier.vkey} http://p/witness",
            f"witness Q {W3.verifier.vkey} http://q/witness",
        ),
        ("P", "P~2", "Q"),
        "peers",
    ),
    PolicyRow(
        "the file and a peer",
        f"witness A {W1.verifier.vkey} http://a/witness\nquorum A\n",
        (f"witness P {W2.verifier.vkey} http://p/witness",),
        ("A", "P"),
        "A",
    ),
    PolicyRow(
        "a peer reusing a name or a key of the file is left out",
        f"witness A {W1.verifier.vkey} http://a/witness\nquorum A\n",
        (f"witness A {W2.verifier.vkey}", f"witness Q {W1.verifier.vkey}", f"witness R {W3.verifier.vkey}"),
        ("A", "R"),
        "A",
    ),
    PolicyRow(
        "a malformed peer line is left out",
        None,
        ("witness", f"witness S {W1.verifier.vkey} http://s", "quorum S"),
        ("S",),
        "peers",
    ),
]


@pytest.mark.parametrize("row", POLICIES, ids=[row.name for row in POLICIES])
def test_the_hubs_witness_policy(row: PolicyRow, tmp_path: Path) -> None:
    settings = _settings(Settings(data_dir=tmp_path), tmp_path, row.file)
    policy = hub_policy(settings, row.peers)
    assert tuple(policy.witnesses) == row.witnesses
    assert policy.quorum == row.quorum
    if row.file is None and row.peers:  # each peer is one member of the quorum: all of them
        peers = {name.split("~")[0] for name in row.witnesses}
        assert not policy.satisfied(set())
        assert policy.satisfied({sorted(n for n in row.witnesses if n.startswith(p))[-1] for p in peers})
        if len(peers) > 1:
            assert not policy.satisfied({row.witnesses[0]})


def test_a_policy_file_that_does_not_parse_is_an_error(tmp_path: Path) -> None:
    settings = _settings(Settings(data_dir=tmp_path), tmp_path, "witness A nonsense\nquorum A\n")
    with pytest.raises(PolicyError):
        hub_policy(settings)


def test_only_the_witnesss_valid_cosignatures_are_kept(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    keystore = KeyStore(settings.resolved_keys_dir)
    policy = (
        f"witness ONE {W1.verifier.vkey} http://one.test\n"
        f"witness TWO {W2.verifier.vkey} http://two.test\n"
        f"witness THREE {W3.verifier.vkey}\n"
        "group G 2 ONE TWO THREE\nquorum G\n"
    )
    settings = _settings(settings, tmp_path, policy)
    with database.unit_of_work() as session:
        record_change(session, "test.grown", subject=("test", "1"), actor="test")
    with database.unit_of_work() as session:
        checkpoint = CheckpointService(session, settings, keystore).advance()
    text = checkpoint.checkpoint.text()
    stranger = _cosigner("stranger.example/w")

    def witnesses(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/add-checkpoint")
        assert request.content.decode().startswith("old 0\n\n")
        if request.url.host == "one.test":  # its line among a stranger's: the stranger's is ignored
            lines = stranger.sign(text, timestamp=5).line() + W1.sign(text, timestamp=6).line()
            return httpx.Response(200, text=lines)
        forged = W2.sign("another text\n", timestamp=7).line()  # TWO's key, not over this checkpoint
        return httpx.Response(200, text=forged)

    result = collect(database, settings, keystore, checkpoint, transport=httpx.MockTransport(witnesses))
    outcomes = result.by_witness()
    assert (outcomes["ONE"].status, outcomes["TWO"].status, outcomes["THREE"].status) == (
        COSIGNED,
        REFUSED,
        NO_URL,
    )
    assert result.cosigned is not None
    kept = result.cosigned.note.signatures[1:]
    assert [signature.name for signature in kept] == ["w1.example/w"]
    assert W1.verifier.timestamp(kept[0]) == 6
