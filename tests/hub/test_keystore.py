"""The hub's signing keys: created once, owner-only files, rotation, retirement."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from hub.keystore import KeyStore, KeyStoreError
from schemas.jwk import JWKSet
from schemas.jws import sign_record, verify_record


def test_first_use_creates_one_owner_only_key(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    key = store.active()
    path = tmp_path / "keys" / f"{key.kid}.jwk.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700
    assert KeyStore(tmp_path / "keys").active().kid == key.kid


def test_processes_starting_together_agree_on_one_first_key(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    kids: list[str] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        try:
            kids.append(KeyStore(directory).active().kid)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(kids) == 8
    assert len(set(kids)) == 1
    assert len(list(directory.glob("*.jwk.json"))) == 1


def test_rotation_keeps_old_signatures_verifiable(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    old = store.active()
    token = sign_record({"n": 1}, old)
    new = store.generate()
    assert store.active().kid == new.kid != old.kid
    published = JWKSet.from_dict(store.jwks())
    assert [key.kid for key in published] == [new.kid, old.kid]
    assert verify_record(token, published).kid == old.kid


def test_another_process_sees_a_rotation(tmp_path: Path) -> None:
    serving, operator = KeyStore(tmp_path / "keys"), KeyStore(tmp_path / "keys")
    serving.active()
    new = operator.generate()
    assert serving.active().kid == new.kid


def test_retired_keys_are_no_longer_published_and_the_active_one_cannot_retire(
    tmp_path: Path,
) -> None:
    store = KeyStore(tmp_path / "keys")
    old = store.active()
    with pytest.raises(KeyStoreError):
        store.retire(old.kid)
    store.generate()
    store.retire(old.kid)
    assert old.kid not in {key["kid"] for key in store.jwks()["keys"]}


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    key = store.active()
    os.chmod(tmp_path / "keys" / f"{key.kid}.jwk.json", 0o644)
    with pytest.raises(KeyStoreError, match="readable by others"):
        KeyStore(tmp_path / "keys").active()


def test_without_keys_the_hub_generates_its_first_at_startup(client) -> None:
    assert len(client.get("/.well-known/jwks.json").json()["keys"]) == 1


@pytest.mark.parametrize("change", ["publish", "retire", "activate"])
def test_a_change_within_one_tick_of_the_file_systems_clock_reaches_another_process(
    tmp_path: Path, change: str
) -> None:
    """Every change replaces the ``active`` pointer, so another process's cached key set notices it
    even when the directory's mtime reads as before (restored here, as a coarse clock would)."""
    mine, theirs = KeyStore(tmp_path), KeyStore(tmp_path)
    first = mine.active()
    second = theirs.generate(activate=False)
    assert {k.kid for k in mine.published()} == {first.kid, second.kid}
    stamp = tmp_path.stat()
    if change == "publish":
        third = theirs.generate(activate=False)
        expected = ({first.kid, second.kid, third.kid}, first.kid)
    elif change == "retire":
        theirs.retire(second.kid)
        expected = ({first.kid}, first.kid)
    else:
        theirs.activate(second.kid)
        expected = ({first.kid, second.kid}, second.kid)
    os.utime(tmp_path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert ({k.kid for k in mine.published()}, mine.active().kid) == expected


def test_publishing_a_key_keeps_the_key_another_process_activated(tmp_path: Path) -> None:
    """A key added without activating it rewrites the pointer as it is on disk, not as this
    process last read it: another process's activation in between stands."""
    mine, theirs = KeyStore(tmp_path), KeyStore(tmp_path)
    mine.active()
    activated = theirs.generate()  # ``mine`` has not read the keys since
    mine.generate(activate=False)
    assert KeyStore(tmp_path).active().kid == activated.kid
    assert mine.active().kid == activated.kid
