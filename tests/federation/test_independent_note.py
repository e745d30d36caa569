"""The hub's /log/checkpoint read by an independent implementation of signed notes and
checkpoints (tests/federation/independent_note.py, written from the specifications, importing
nothing of the hub): they agree on what verifies and on the tree it commits to."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from hub.keystore import KeyStore
from hub.log.changes import record_change
from hub.tlog.checkpointer import sign_checkpoint
from hub.tlog.checkpoints import CheckpointService
from tests.federation.independent_note import (
    Key,
    Rejected,
    read_checkpoint,
    read_vkey,
    rfc6962_root,
    split_note,
    verified_by,
)
from transparency.note import COSIGNATURE_V1, Signer


def _grow(database, count: int) -> None:
    with database.unit_of_work() as session:
        for i in range(count):
            record_change(session, "test.grown", subject=("test", str(i)), actor="test")


def _log_key(client: TestClient) -> Key:
    lines = [line for line in client.get("/log/policy").text.splitlines() if line.startswith("log ")]
    return read_vkey(lines[0].split(" ")[1])


def test_the_independent_reader_agrees_with_the_hubs_checkpoint(client, database, settings) -> None:
    _grow(database, 37)
    sign_checkpoint(database, settings, KeyStore(settings.resolved_keys_dir))
    note = client.get("/log/checkpoint").text
    tree = read_checkpoint(note, _log_key(client))
    assert (tree.origin, tree.size) == (settings.log_origin, 37)
    page = client.get("/v1/log/entries", params={"start": 0, "end": tree.size}).json()
    assert tree.root == rfc6962_root([base64.b64decode(item["entry_b64"]) for item in page])


def test_the_independent_reader_verifies_the_hubs_cosignatures_and_ignores_unknown_keys(
    client, database, settings
) -> None:
    _grow(database, 3)
    signed = sign_checkpoint(database, settings, KeyStore(settings.resolved_keys_dir))
    witness = Signer("w.example/witness", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
    other = Signer("x.example/witness", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
    cosignatures = [s.sign(signed.checkpoint.text(), timestamp=1_700_000_123) for s in (witness, other)]
    with database.unit_of_work() as session:
        service = CheckpointService(session, settings, KeyStore(settings.resolved_keys_dir))
        service.add_cosignatures(3, cosignatures)
    note = client.get("/log/checkpoint").text
    wkey = read_vkey(witness.verifier.vkey)
    assert wkey.id == witness.verifier.key_id  # the two agree on key IDs and vkeys
    log = _log_key(client)
    assert verified_by(note, [log, wkey]) == {log.name: None, wkey.name: 1_700_000_123}
    assert read_checkpoint(note, log).size == 3


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda n: n.replace("\n3\n", "\n4\n", 1), id="another size"),
        pytest.param(lambda n: n.replace("/log\n", "/log2\n", 1), id="another origin"),
    ],
)
def test_both_readers_reject_an_altered_checkpoint(client, database, settings, mangle) -> None:
    from hub.identity import log_verifiers
    from transparency.note import NoteError, open_note

    _grow(database, 3)
    sign_checkpoint(database, settings, KeyStore(settings.resolved_keys_dir))
    note = mangle(client.get("/log/checkpoint").text)
    with pytest.raises(Rejected):
        read_checkpoint(note, _log_key(client))
    verifiers = log_verifiers(settings, KeyStore(settings.resolved_keys_dir))
    with pytest.raises(NoteError):
        open_note(note, verifiers)


def test_the_signature_line_format(client, database, settings) -> None:
    _grow(database, 1)
    sign_checkpoint(database, settings, KeyStore(settings.resolved_keys_dir))
    text, signatures = split_note(client.get("/log/checkpoint").text)
    assert text.count("\n") == 3
    assert [(name, len(raw)) for name, _, raw in signatures] == [(settings.log_origin, 64)]
