"""The hub's own signing keys, kept as files readable only by their owner.

``<keys_dir>/<kid>.jwk.json`` holds one private Ed25519 JWK (mode 0600, directory 0700) and
``<keys_dir>/active`` names the key that signs. Every key in the directory is published in the JWKS,
so signatures made before a rotation keep verifying; ``retire`` moves a key out of publication.
Processes sharing the directory see each other's rotations: every read compares a stamp of the
directory (its mtime, the ``active`` pointer's mtime and inode — every change, a rotation, a key
added or retired, replaces the pointer, so its inode changes even within one tick of the file
system's clock) and re-reads it when the
stamp changed; ``derived`` caches what is built from the keys (the verifying key set) under the
same stamp, so nothing another process needs lives only in this one's memory. Changes are made
under an exclusive ``flock`` on ``.lock`` and every file is written under a temporary name and
renamed into place, so the first key is created exactly once even when several processes start
together, and no reader ever sees a half-written file.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from schemas.jwk import Ed25519Key
from schemas.jws import SIGNING_ALGORITHM

ACTIVE = "active"
T = TypeVar("T")
SUFFIX = ".jwk.json"


class KeyStoreError(RuntimeError):
    """A key file that is missing, unreadable, malformed or too widely readable."""


def write_private_file(path: Path, content: str) -> None:
    """Create ``path`` with mode 0600 (refusing to overwrite) and write ``content``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)


def replace_private_file(path: Path, content: str) -> None:
    """Atomically put ``content`` at ``path`` (mode 0600) through a temporary file and a rename."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    write_private_file(temporary, content)
    os.replace(temporary, path)


def read_private_key(path: Path) -> Ed25519Key:
    """Load a private JWK file, refusing one that group or others may read."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyStoreError(f"{path} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it")
        document = json.loads(path.read_text("utf-8"))
        if isinstance(document, dict) and isinstance(document.get("private_jwk"), dict):
            document = document["private_jwk"]  # a credentials file (puhui clients create, demo)
        key = Ed25519Key.from_jwk(document)
    except (OSError, ValueError) as exc:
        raise KeyStoreError(f"cannot load key {path}: {exc}") from exc
    if not key.can_sign:
        raise KeyStoreError(f"{path} holds no private key")
    return key


class KeyStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._stamp: tuple[int, int, int] | None = None
        self._keys: dict[str, Ed25519Key] = {}
        self._active: str | None = None
        self._derived: dict[str, tuple[tuple[int, int, int] | None, Any]] = {}

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._stamp = None  # re-read inside the lock
            yield
        finally:
            os.close(fd)

    def _load(self) -> None:
        active_path = self.directory / ACTIVE
        try:
            pointer = active_path.stat()
            stamp = (self.directory.stat().st_mtime_ns, pointer.st_mtime_ns, pointer.st_ino)
        except FileNotFoundError:
            stamp = (0, 0, 0)
        if stamp == self._stamp:
            return
        # The pointer first: a writer puts the key file in place before it points at it.
        try:
            active: str | None = active_path.read_text("utf-8").strip()
        except FileNotFoundError:
            active = None
        keys: dict[str, Ed25519Key] = {}
        for path in sorted(self.directory.glob("*" + SUFFIX)):
            if path.exists():  # a concurrent retire may have moved it
                key = read_private_key(path)
                keys[key.kid] = key
        if active is not None and active not in keys:
            raise KeyStoreError(f"the active key {active} has no file in {self.directory}")
        self._keys, self._active, self._stamp = keys, active, stamp

    def published(self) -> list[Ed25519Key]:
        """Every published key, the active one first."""
        self._load()
        return sorted(self._keys.values(), key=lambda key: key.kid != self._active)

    def active(self) -> Ed25519Key:
        """The key that signs now; generates the first key when there is none."""
        self._load()
        if self._active is None:
            with self._locked():
                self._load()
                if self._active is None:
                    self._add(Ed25519Key.generate(), activate=True)
        assert self._active is not None
        return self._keys[self._active]

    def _add(self, key: Ed25519Key, *, activate: bool) -> None:
        """Write a key (and the active pointer); the caller holds the lock."""
        replace_private_file(self.directory / f"{key.kid}{SUFFIX}", json.dumps(key.private_jwk()))
        self._repoint(key.kid if activate else None)
        self._load()

    def _repoint(self, kid: str | None = None) -> None:
        """Write the ``active`` pointer anew, naming ``kid`` (None: the key it names on disk now);
        the caller holds the lock. Every change replaces it, so its inode tells other processes
        that the keys changed even when the directory's mtime reads the same (a change within one
        tick of the file system's clock)."""
        pointer = self.directory / ACTIVE
        if kid is None:
            try:
                kid = pointer.read_text("utf-8").strip() or None
            except FileNotFoundError:
                kid = None
        if kid is not None:
            replace_private_file(pointer, kid)
        self._stamp = None

    def generate(self, *, activate: bool = True) -> Ed25519Key:
        """Add a new key; with ``activate`` it signs from now on (older keys stay published)."""
        key = Ed25519Key.generate()
        with self._locked():
            self._add(key, activate=activate)
        return key

    def activate(self, kid: str) -> None:
        with self._locked():
            self._load()
            if kid not in self._keys:
                raise KeyStoreError(f"no key {kid} in {self.directory}")
            self._add(self._keys[kid], activate=True)

    def retire(self, kid: str) -> None:
        """Stop publishing ``kid``; its file moves to ``retired/``. The active key cannot retire."""
        with self._locked():
            self._load()
            if kid == self._active:
                raise KeyStoreError(f"{kid} is the active key; activate another one first")
            if kid not in self._keys:
                raise KeyStoreError(f"no key {kid} in {self.directory}")
            retired = self.directory / "retired"
            retired.mkdir(exist_ok=True, mode=0o700)
            os.replace(self.directory / f"{kid}{SUFFIX}", retired / f"{kid}{SUFFIX}")
            self._repoint()

    def derived(self, name: str, build: Callable[[KeyStore], T]) -> T:
        """``build(self)``, cached until the keys change (here or in another process)."""
        self.active()
        stamp, value = self._derived.get(name, (None, None))
        if stamp is None or stamp != self._stamp:
            value = build(self)
            self._derived[name] = (self._stamp, value)
        return value  # type: ignore[no-any-return]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWK Set of every published key."""
        self.active()
        return {"keys": [{**key.public_jwk(), "alg": SIGNING_ALGORITHM} for key in self.published()]}
