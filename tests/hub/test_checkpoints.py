"""The hub's checkpoints: signed notes of the log, moved forward only by compare-and-swap after a
consistency check, never signed over a rewritten log."""

from __future__ import annotations

import threading

import pytest

from hub.identity import log_verifiers
from hub.keystore import KeyStore
from hub.log.changes import record_change
from hub.log.reader import LogReader
from hub.tlog.checkpoints import CheckpointService, LogInconsistent
from tests.forking import fork_log
from transparency.note import open_note


def grow(database, count: int) -> None:
    with database.unit_of_work() as session:
        for i in range(count):
            record_change(
                session, "test.grown", subject=("test", str(i)), actor="test", platforms=[], data={}
            )


def advance(database, settings):
    with database.unit_of_work() as session:
        return CheckpointService(session, settings, KeyStore(settings.resolved_keys_dir)).advance()


def test_checkpoints_follow_the_log_and_verify_with_the_hub_keys(database, settings) -> None:
    grow(database, 3)
    first = advance(database, settings)
    assert first.checkpoint.origin == settings.log_origin == "127.0.0.1:8000/log"
    assert first.checkpoint.size == 3
    verifiers = log_verifiers(settings, KeyStore(settings.resolved_keys_dir))
    assert open_note(first.render(), verifiers).names() == {settings.log_origin}
    assert advance(database, settings) == first  # the log did not grow: the same checkpoint
    grow(database, 2)
    second = advance(database, settings)
    assert second.checkpoint.size == 5
    with database.unit_of_work() as session:
        assert second.checkpoint.root_hash == LogReader(session).root(5)


def test_a_rewritten_log_is_never_checkpointed(database, settings) -> None:
    grow(database, 4)
    signed = advance(database, settings)
    fork_log(database, 1)  # an attacker rewrites an entry and every hash above it
    grow(database, 1)
    with pytest.raises(LogInconsistent) as refused:
        advance(database, settings)
    assert refused.value.code == "7010"
    with database.unit_of_work() as session:
        kept = CheckpointService(session, settings, KeyStore(settings.resolved_keys_dir)).latest()
    assert kept == signed


@pytest.mark.postgres
def test_racing_signers_store_one_checkpoint_per_size(database, settings) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    grow(database, 2)
    advance(database, settings)
    grow(database, 3)
    results, errors = [], []

    def sign() -> None:
        try:
            results.append(advance(database, settings))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sign) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {result.checkpoint for result in results} == {results[0].checkpoint}
    assert results[0].checkpoint.size == 5


def test_cosignatures_are_kept_for_their_size_only(database, settings) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from transparency.note import COSIGNATURE_V1, Signer

    witness = Signer("w.example/witness", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
    grow(database, 2)
    signed = advance(database, settings)
    line = witness.sign(signed.checkpoint.text(), timestamp=100)
    with database.unit_of_work() as session:
        service = CheckpointService(session, settings, KeyStore(settings.resolved_keys_dir))
        kept = service.add_cosignatures(2, [line, line])
        assert kept is not None and kept.note.signatures[-1] == line
        assert service.add_cosignatures(1, [line]) is None
    with database.unit_of_work() as session:
        latest = CheckpointService(session, settings, KeyStore(settings.resolved_keys_dir)).latest()
    assert latest is not None and latest.note.signatures.count(line) == 1
    grow(database, 1)
    assert (
        advance(database, settings).note.signatures
        == signed.note.signatures[:0] + advance(database, settings).note.signatures
    )  # a new size starts without cosignatures
    assert line not in advance(database, settings).note.signatures
